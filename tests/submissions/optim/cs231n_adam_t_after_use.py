# expect: fail bias_correction_t_minus_1
# ruff: noqa
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

    m = config['beta1'] * config['m'] + (1 - config['beta1']) * dw
    v = config['beta2'] * config['v'] + (1 - config['beta2']) * dw ** 2
    m_hat = m / (1 - config['beta1'] ** config['t'])
    v_hat = v / (1 - config['beta2'] ** config['t'])
    next_w = w - config['learning_rate'] * m_hat / (np.sqrt(v_hat) + config['epsilon'])
    config['t'] += 1
    config['m'], config['v'] = m, v
    return next_w, config
