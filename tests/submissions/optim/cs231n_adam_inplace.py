# expect: pass
# ruff: noqa
import numpy as np


def adam(x, dx, config=None):
    if config is None: config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', np.zeros_like(x))
    config.setdefault('v', np.zeros_like(x))
    config.setdefault('t', 0)

    b1, b2 = config['beta1'], config['beta2']
    t = config['t'] + 1
    m = b1 * config['m'] + (1 - b1) * dx
    v = b2 * config['v'] + (1 - b2) * dx * dx
    mb = m / (1 - b1 ** t)
    vb = v / (1 - b2 ** t)
    x -= config['learning_rate'] * mb / (np.sqrt(vb) + config['epsilon'])   # in place: the handout allows it
    config['m'], config['v'], config['t'] = m, v, t
    return x, config
