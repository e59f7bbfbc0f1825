"""Ion channels: one small class per current, kinetics as in the papers' tables."""

from .._numerics import exprel
from ._base import IonChannel, Leak, from_alpha_beta, modulated, sigmoid
from .hh import HHPotassium, HHSodium
from .liu import LiuA, LiuCaS, LiuCaT, LiuH, LiuKCa, LiuKd, LiuNa
from .prinz import PrinzA, PrinzCaS, PrinzCaT, PrinzH, PrinzKCa, PrinzKd, PrinzNa
from .traub import TraubPotassium, TraubSodium

__all__ = [
    "IonChannel",
    "Leak",
    "HHSodium",
    "HHPotassium",
    "LiuNa",
    "LiuCaT",
    "LiuCaS",
    "LiuA",
    "LiuKCa",
    "LiuKd",
    "LiuH",
    "PrinzNa",
    "PrinzCaT",
    "PrinzCaS",
    "PrinzA",
    "PrinzKCa",
    "PrinzKd",
    "PrinzH",
    "TraubSodium",
    "TraubPotassium",
    "exprel",
    "from_alpha_beta",
    "sigmoid",
    "modulated",
]
