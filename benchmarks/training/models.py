"""The MLPs the training benchmarks run, as Glia source (shared by training/ and gpu/)."""


def glia_source(hidden, k: int = 64, classes: int = 10) -> str:
    """`def model(x: f32[k]) -> f32[classes]`: dense + relu per hidden width, then dense + softmax."""
    lines = [f"def model(x: f32[{k}]) -> f32[{classes}]:"]
    prev = "x"
    for i, n in enumerate(hidden):
        lines.append(f"    h{i} = relu(dense({prev}, {n}))")
        prev = f"h{i}"
    lines.append(f"    return softmax(dense({prev}, {classes}))")
    return "\n".join(lines) + "\n"


def torch_tree_rnn(hidden: int = 32, classes: int = 3):
    """examples/neural/tree_rnn.glia in PyTorch eager, written as PyTorch users write a recursive
    network: a module that recurses over one tree in Python, a Linear per leaf and per node (weights
    shared by every node), tanh, the root's logits. A tree is its rows (heap order: row k's children
    are rows 2k+1 and 2k+2) and `leaf`, whether each row is a leaf, as a Python list (the structure
    lives in Python, as a parsed tree would; no tensor is read to decide the recursion)."""
    import torch

    class TreeRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.leaf = torch.nn.Linear(3, hidden)
            self.node = torch.nn.Linear(2 * hidden + 2, hidden)
            self.out = torch.nn.Linear(hidden, classes)

        def encode(self, rows, leaf, k):
            if leaf[k]:
                return torch.tanh(self.leaf(rows[k, 1:4]))
            left, right = self.encode(rows, leaf, 2 * k + 1), self.encode(rows, leaf, 2 * k + 2)
            return torch.tanh(self.node(torch.cat((left, right, rows[k, 4:6]))))

        def forward(self, rows, leaf):
            return self.out(self.encode(rows, leaf, 0))

    return TreeRNN()
