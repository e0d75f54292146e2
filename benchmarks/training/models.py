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
