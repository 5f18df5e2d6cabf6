# Training script: runs only when executed, never when imported.
import argparse

from ex02_diffusion import Diffusion, linear_beta_schedule
from ex02_model import Unet


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=100)
    args = parser.parse_args()
    Diffusion(args.timesteps, lambda n: linear_beta_schedule(0.0001, 0.02, n), 32)
    Unet(dim=32, channels=3, dim_mults=(1, 2, 4))
    raise SystemExit("training needs CIFAR-10 and a GPU")


if __name__ == "__main__":
    main()
