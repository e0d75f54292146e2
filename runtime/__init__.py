"""What Glia programs call while running: kernels, value formatting, runtime errors."""
