# The course's unfilled Exercise 2 as a student receives it (rewritten here for the grader's tests).
import torch


def linear_beta_schedule(beta_start, beta_end, timesteps):
    """Given: evenly spaced betas."""
    return torch.linspace(beta_start, beta_end, timesteps)


def cosine_beta_schedule(timesteps, s=0.008):
    # TODO (2.3): the cosine schedule of Nichol & Dhariwal (2021)
    pass


def sigmoid_beta_schedule(beta_start, beta_end, timesteps):
    # TODO (2.3): a sigmoid over a ramp of your choice, scaled to [beta_start, beta_end]
    pass


class Diffusion:
    def __init__(self, timesteps, get_noise_schedule, img_size, device="cuda"):
        self.timesteps = timesteps
        self.img_size = img_size
        self.device = device
        self.betas = get_noise_schedule(self.timesteps)
        # TODO (2.2): everything the forward and reverse process need

    @torch.no_grad()
    def p_sample(self, model, x, t, t_index):
        # TODO (2.4): one reverse step
        pass

    @torch.no_grad()
    def sample(self, model, image_size, batch_size=16, channels=3):
        # TODO (2.4): the whole reverse process; return every step's images
        pass

    def q_sample(self, x_zero, t, noise=None):
        # TODO (2.2): the forward process in closed form
        pass

    def p_losses(self, denoise_model, x_zero, t, noise=None, loss_type="l1"):
        # TODO (2.2): the training loss
        pass
