# Helpers the course hands out (rewritten here): einops is what they need installed.
from einops import rearrange


def extract(a, t, x_shape):
    """a[t] for each sample of the batch, shaped to broadcast over x."""
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu() if a.device.type == "cpu" else t)
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


def to_image_grid(batch, rows):
    return rearrange(batch, "(r c) ch h w -> ch (r h) (c w)", r=rows)
