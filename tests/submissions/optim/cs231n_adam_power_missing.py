# expect: fail t_not_incremented
# ruff: noqa
# Written for bpcheck's tests: t is incremented, but the bias correction divides by 1 - beta where
# 1 - beta ** t belongs (a real CS231n optim.py did): numerically the same as a t frozen at 1.
import numpy as np


def adam(w, dw, config=None):
    if config is None: config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', np.zeros_like(w))
    config.setdefault('v', np.zeros_like(w))
    config.setdefault('t', 0)
    config['t'] += 1
    config['m'] = config['beta1'] * config['m'] + (1 - config['beta1']) * dw
    config['v'] = config['beta2'] * config['v'] + (1 - config['beta2']) * dw ** 2
    m_hat = config['m'] / (1 - config['beta1'])
    v_hat = config['v'] / (1 - config['beta2'])
    next_w = w - config['learning_rate'] * m_hat / (np.sqrt(v_hat) + config['epsilon'])
    return next_w, config
