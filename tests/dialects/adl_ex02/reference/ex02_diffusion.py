# A complete Exercise 2 in the course's style, written for the grader's tests from the API the spec
# describes (DIALECTS.md, adl-ex02): schedules, the Diffusion class and its methods.
import math

import torch
import torch.nn.functional as F
from ex02_helpers import extract
from tqdm import tqdm


def linear_beta_schedule(beta_start, beta_end, timesteps):
    """Given: evenly spaced betas."""
    return torch.linspace(beta_start, beta_end, timesteps)


def cosine_beta_schedule(timesteps, s=0.008):
    # TODO (2.3): the cosine schedule of Nichol & Dhariwal (2021)
    steps = torch.arange(timesteps + 1, dtype=torch.float64)
    f = torch.cos((steps / timesteps + s) / (1 + s) * math.pi / 2) ** 2
    alphas_cumprod = f / f[0]
    betas = 1 - alphas_cumprod[1:] / alphas_cumprod[:-1]
    return torch.clip(betas, 0.0001, 0.9999).float()


def sigmoid_beta_schedule(beta_start, beta_end, timesteps):
    # TODO (2.3): a sigmoid over a ramp of our choice, scaled to [beta_start, beta_end]
    ramp = torch.linspace(-6, 6, timesteps)
    return torch.sigmoid(ramp) * (beta_end - beta_start) + beta_start


class Diffusion:
    def __init__(self, timesteps, get_noise_schedule, img_size, device="cuda"):
        self.timesteps = timesteps
        self.img_size = img_size
        self.device = device
        self.betas = get_noise_schedule(self.timesteps)

        # TODO (2.2): everything the forward and reverse process need
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.alphas_cumprod_prev = F.pad(self.alphas_cumprod[:-1], (1, 0), value=1.0)
        self.sqrt_recip_alphas = torch.sqrt(1.0 / self.alphas)
        self.sqrt_alphas_cumprod = torch.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - self.alphas_cumprod)
        self.posterior_variance = self.betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)

    @torch.no_grad()
    def p_sample(self, model, x, t, t_index):
        # TODO (2.4): one reverse step, Eq. 11 of Ho et al. for the mean
        betas_t = extract(self.betas, t, x.shape)
        sqrt_one_minus_alphas_cumprod_t = extract(self.sqrt_one_minus_alphas_cumprod, t, x.shape)
        sqrt_recip_alphas_t = extract(self.sqrt_recip_alphas, t, x.shape)
        model_mean = sqrt_recip_alphas_t * (x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)
        if t_index == 0:
            return model_mean
        posterior_variance_t = extract(self.posterior_variance, t, x.shape)
        noise = torch.randn_like(x)
        return model_mean + torch.sqrt(posterior_variance_t) * noise

    @torch.no_grad()
    def sample(self, model, image_size, batch_size=16, channels=3):
        # TODO (2.4): the whole reverse process; every step's images, the last one the result
        shape = (batch_size, channels, image_size, image_size)
        img = torch.randn(shape, device=self.device)
        imgs = []
        for i in tqdm(reversed(range(0, self.timesteps)), desc="sampling", total=self.timesteps):
            t = torch.full((batch_size,), i, device=self.device, dtype=torch.long)
            img = self.p_sample(model, img, t, i)
            imgs.append(img.cpu())
        return imgs

    def q_sample(self, x_zero, t, noise=None):
        # TODO (2.2): the forward process in closed form
        if noise is None:
            noise = torch.randn_like(x_zero)
        sqrt_alphas_cumprod_t = extract(self.sqrt_alphas_cumprod, t, x_zero.shape)
        sqrt_one_minus_alphas_cumprod_t = extract(self.sqrt_one_minus_alphas_cumprod, t, x_zero.shape)
        return sqrt_alphas_cumprod_t * x_zero + sqrt_one_minus_alphas_cumprod_t * noise

    def p_losses(self, denoise_model, x_zero, t, noise=None, loss_type="l1"):
        # TODO (2.2): the training loss
        if noise is None:
            noise = torch.randn_like(x_zero)
        x_noisy = self.q_sample(x_zero=x_zero, t=t, noise=noise)
        predicted_noise = denoise_model(x_noisy, t)
        if loss_type == "l1":
            loss = F.l1_loss(noise, predicted_noise)
        elif loss_type == "l2":
            loss = F.mse_loss(noise, predicted_noise)
        else:
            raise NotImplementedError()
        return loss
