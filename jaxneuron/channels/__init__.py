"""Ion channels: one small class per current, kinetics as in the papers' tables."""

from ._base import IonChannel, Leak, exprel, from_alpha_beta, sigmoid
from .hh import HHPotassium, HHSodium

__all__ = [
    "IonChannel",
    "Leak",
    "HHSodium",
    "HHPotassium",
    "exprel",
    "from_alpha_beta",
    "sigmoid",
]
