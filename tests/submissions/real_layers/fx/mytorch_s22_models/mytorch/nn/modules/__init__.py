from .linear import Linear
from .activation import ReLU
