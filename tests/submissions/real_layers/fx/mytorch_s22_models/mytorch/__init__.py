from .nn import *
from .models import *
