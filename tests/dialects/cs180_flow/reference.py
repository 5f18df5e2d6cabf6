# %% [markdown]
# # Project 5B: Flow Matching from Scratch!
# A complete notebook in the style of CS180's flow-matching notebook, written for the grader's tests
# from the API the spec describes (DIALECTS.md, cs180-flow). Fill-ins sit between `# ===== your code here! ====`
# and `# ===== end of code ====`

# %%
# Setup
!pip install mediapy einops
from google.colab import drive
drive.mount('/content/drive')
toSave = True

# %%
import mediapy as media
import torch
import wandb  # a student's own logging: not installed where the grader runs
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

device = 'cuda'
batch_size = 128

# %% [markdown]
# ## Part 1: the simple ops

# %%
class Conv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DownConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 2, 1), nn.BatchNorm2d(out_channels), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UpConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1), nn.BatchNorm2d(out_channels),
                                 nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Flatten(nn.Module):
    def __init__(self):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(nn.AvgPool2d(7), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Unflatten(nn.Module):
    def __init__(self, in_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(nn.ConvTranspose2d(in_channels, in_channels, 7, 7, 0), nn.BatchNorm2d(in_channels),
                                 nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(Conv(in_channels, out_channels), Conv(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DownBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(DownConv(in_channels, out_channels), ConvBlock(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UpBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(UpConv(in_channels, out_channels), ConvBlock(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

# %%
class UnconditionalUNet(nn.Module):
    def __init__(self, in_channels: int, num_hiddens: int):
        super().__init__()
        # ===== your code here! ====
        d = num_hiddens
        self.conv_in = ConvBlock(in_channels, d)
        self.down1 = DownBlock(d, d)
        self.down2 = DownBlock(d, 2 * d)
        self.flatten = Flatten()
        self.unflatten = Unflatten(2 * d)
        self.up1 = UpBlock(4 * d, d)
        self.up2 = UpBlock(2 * d, d)
        self.conv_out = ConvBlock(2 * d, d)
        self.head = nn.Conv2d(d, in_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-2:] == (28, 28), "Expect input shape to be (28, 28)."
        # ===== your code here! ====
        e0 = self.conv_in(x)
        e1 = self.down1(e0)
        e2 = self.down2(e1)
        h = self.unflatten(self.flatten(e2))
        h = self.up1(torch.cat([h, e2], 1))
        h = self.up2(torch.cat([h, e1], 1))
        return self.head(self.conv_out(torch.cat([h, e0], 1)))

# %%
# Part 1 training (left out by the grader)
model = UnconditionalUNet(1, 128).to(device)
for epoch in range(5):
    pass

# %% [markdown]
# ## Part 2: time-conditioned UNet (the time embedding multiplies)

# %%
class FCBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # ===== your code here! ====
        self.net = nn.Sequential(nn.Linear(in_channels, out_channels), nn.GELU(), nn.Linear(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TimeConditionalUNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, num_hiddens: int):
        super().__init__()
        # ===== your code here! ====
        d = num_hiddens
        self.conv_in = ConvBlock(in_channels, d)
        self.down1 = DownBlock(d, d)
        self.down2 = DownBlock(d, 2 * d)
        self.flatten = Flatten()
        self.unflatten = Unflatten(2 * d)
        self.up1 = UpBlock(4 * d, d)
        self.up2 = UpBlock(2 * d, d)
        self.conv_out = ConvBlock(2 * d, d)
        self.head = nn.Conv2d(d, in_channels, 3, 1, 1)
        self.fc1_t = FCBlock(1, 2 * d)
        self.fc2_t = FCBlock(1, d)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W); t: (N,) normalized time (copies reshape it to (N, 1) for the FCBlocks)."""
        assert x.shape[-2:] == (28, 28), "Expect input shape to be (28, 28)."
        # ===== your code here! ====
        t = t.reshape(-1, 1).float()
        t1 = self.fc1_t(t)[:, :, None, None]
        t2 = self.fc2_t(t)[:, :, None, None]
        e0 = self.conv_in(x)
        e1 = self.down1(e0)
        e2 = self.down2(e1)
        h = self.unflatten(self.flatten(e2)) * t1
        h = self.up1(torch.cat([h, e2], 1)) * t2
        h = self.up2(torch.cat([h, e1], 1))
        return self.head(self.conv_out(torch.cat([h, e0], 1)))

# %%
def fm_forward(unet, x_1: torch.Tensor, num_ts: int) -> torch.Tensor:
    """One training step of flow matching: x0 is noise, x1 data, the target the velocity x1 - x0."""
    unet.train()
    # ===== your code here! ====
    x_0 = torch.randn_like(x_1)
    t = torch.rand(x_1.shape[0], 1, 1, 1, device=x_1.device)
    x_t = (1 - t) * x_0 + t * x_1
    return F.mse_loss(unet(x_t, t.reshape(-1, 1)), x_1 - x_0)
    # ===== end of code ====


@torch.inference_mode()
def fm_sample(unet, img_wh: tuple, num_ts: int, seed: int = 0) -> torch.Tensor:
    """Euler from noise at t = 0 to data at t = 1, num_ts steps (batch_size samples)."""
    unet.eval()
    # ===== your code here! ====
    dev = next(unet.parameters()).device
    torch.manual_seed(seed)
    x = torch.randn(batch_size, 1, *img_wh, device=dev)
    for i in range(num_ts):
        t = torch.full((x.shape[0], 1), i / num_ts, device=dev)
        x = x + unet(x, t) / num_ts
    return x
    # ===== end of code ====


class FlowMatching(nn.Module):
    def __init__(self, unet, num_ts: int = 50):
        super().__init__()
        self.unet, self.num_ts = unet, num_ts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fm_forward(self.unet, x, self.num_ts)

    @torch.inference_mode()
    def sample(self, img_wh: tuple, seed: int = 0):
        return fm_sample(self.unet, img_wh, self.num_ts, seed)

# %%
# Training the time-conditioned UNet (left out by the grader)
fm = FlowMatching(TimeConditionalUNet(1, 10, 64)).to(device)
for epoch in range(20):
    pass

# %% [markdown]
# ## Part 2: class-conditioned UNet

# %%
class ClassConditionalUNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, num_hiddens: int):
        super().__init__()
        # ===== your code here! ====
        d = num_hiddens
        self.num_classes = num_classes
        self.conv_in = ConvBlock(in_channels, d)
        self.down1 = DownBlock(d, d)
        self.down2 = DownBlock(d, 2 * d)
        self.flatten = Flatten()
        self.unflatten = Unflatten(2 * d)
        self.up1 = UpBlock(4 * d, d)
        self.up2 = UpBlock(2 * d, d)
        self.conv_out = ConvBlock(2 * d, d)
        self.head = nn.Conv2d(d, in_channels, 3, 1, 1)
        self.fc1_t = FCBlock(1, 2 * d)
        self.fc2_t = FCBlock(1, d)
        self.fc1_c = FCBlock(num_classes, 2 * d)
        self.fc2_c = FCBlock(num_classes, d)

    def forward(self, x: torch.Tensor, c: torch.Tensor, t: torch.Tensor, mask: torch.Tensor | None = None):
        """c: (N,) int64 labels; t: (N, 1) normalized time; mask: (N,), 0 drops the class."""
        assert x.shape[-2:] == (28, 28), "Expect input shape to be (28, 28)."
        # ===== your code here! ====
        c = F.one_hot(c.long(), self.num_classes).float()
        if mask is not None:
            c = c * mask.reshape(-1, 1).float()
        t = t.reshape(-1, 1).float()
        c1, c2 = self.fc1_c(c)[:, :, None, None], self.fc2_c(c)[:, :, None, None]
        t1, t2 = self.fc1_t(t)[:, :, None, None], self.fc2_t(t)[:, :, None, None]
        e0 = self.conv_in(x)
        e1 = self.down1(e0)
        e2 = self.down2(e1)
        h = c1 * self.unflatten(self.flatten(e2)) + t1
        h = c2 * self.up1(torch.cat([h, e2], 1)) + t2
        h = self.up2(torch.cat([h, e1], 1))
        return self.head(self.conv_out(torch.cat([h, e0], 1)))

# %%
def fm_forward(unet, x_1: torch.Tensor, c: torch.Tensor, p_uncond: float, num_ts: int) -> torch.Tensor:
    """Flow matching with classes, dropped with probability p_uncond."""
    unet.train()
    # ===== your code here! ====
    x_0 = torch.randn_like(x_1)
    t = torch.rand(x_1.shape[0], 1, 1, 1, device=x_1.device)
    x_t = (1 - t) * x_0 + t * x_1
    mask = (torch.rand(x_1.shape[0], device=x_1.device) >= p_uncond).float()
    return F.mse_loss(unet(x_t, c, t.reshape(-1, 1), mask), x_1 - x_0)
    # ===== end of code ====


@torch.inference_mode()
def fm_sample(unet, c: torch.Tensor, img_wh: tuple, num_ts: int, guidance_scale: float = 5.0, seed: int = 0):
    """Euler with classifier-free guidance, one sample per class of c."""
    unet.eval()
    # ===== your code here! ====
    dev = next(unet.parameters()).device
    n = len(c)
    ones, zeros = torch.ones(n, device=dev), torch.zeros(n, device=dev)
    torch.manual_seed(seed)
    x = torch.randn(n, 1, *img_wh, device=dev)
    for i in range(num_ts):
        t = torch.full((n, 1), i / num_ts, device=dev)
        u_c, u_u = unet(x, c, t, ones), unet(x, c, t, zeros)
        x = x + (u_u + guidance_scale * (u_c - u_u)) / num_ts
    return x
    # ===== end of code ====
