# expect: error (rmsprop takes a fourth argument, the key its cache lives under: bpcheck's call does not fit)
# ruff: noqa
# Written for bpcheck's tests: an optim.py whose sgd is the handout's and whose rmsprop keeps its cache
# under a key the caller passes (rmsprop(w, dw, config, cache_key)), a variant the silent-path review saw.
import numpy as np


def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    w -= config['learning_rate'] * dw
    return w, config


def rmsprop(w, dw, config, cache_key):
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    cache = config.setdefault(cache_key, np.zeros_like(w))
    cache[:] = config['decay_rate'] * cache + (1 - config['decay_rate']) * dw ** 2
    next_w = w - config['learning_rate'] * dw / (np.sqrt(cache) + config['epsilon'])
    return next_w, config
