"""Adam(model, lr, beta1, beta2, eps): bias-corrected moments, W -= lr m^ / (sqrt(v^) + eps)."""

import numpy as np

__all__ = ["Adam"]


class Adam:
    def __init__(self, model, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.l = [layer for layer in model.layers if hasattr(layer, "W")]
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.lr = lr
        self.t = 0
        self.m_W = [np.zeros(layer.W.shape) for layer in self.l]
        self.v_W = [np.zeros(layer.W.shape) for layer in self.l]
        self.m_b = [np.zeros(layer.b.shape) for layer in self.l]
        self.v_b = [np.zeros(layer.b.shape) for layer in self.l]

    def step(self):
        self.t += 1
        for i, layer in enumerate(self.l):
            self.m_W[i] = self.beta1 * self.m_W[i] + (1 - self.beta1) * layer.dLdW
            self.v_W[i] = self.beta2 * self.v_W[i] + (1 - self.beta2) * layer.dLdW**2
            self.m_b[i] = self.beta1 * self.m_b[i] + (1 - self.beta1) * layer.dLdb
            self.v_b[i] = self.beta2 * self.v_b[i] + (1 - self.beta2) * layer.dLdb**2
            m_W_hat = self.m_W[i] / (1 - self.beta1**self.t)
            v_W_hat = self.v_W[i] / (1 - self.beta2**self.t)
            m_b_hat = self.m_b[i] / (1 - self.beta1**self.t)
            v_b_hat = self.v_b[i] / (1 - self.beta2**self.t)
            layer.W = layer.W - self.lr * m_W_hat / (np.sqrt(v_W_hat) + self.eps)
            layer.b = layer.b - self.lr * m_b_hat / (np.sqrt(v_b_hat) + self.eps)
