"""A Solver that trains classification models, and the update rules it can use.

    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=5, batch_size=100)
    solver.train()
    solver.plot_history()

The model is any object with
- ``model.params``: a dict from parameter names to arrays, and
- ``model.loss(X, y=None)``: the scores, of shape (N, C), when y is None; otherwise
  ``(loss, grads)`` with ``grads`` keyed like ``model.params``.

``data`` is a dict with "X_train", "y_train", "X_val" and "y_val" (as returned by
``data_utils``). Each epoch visits every training example once, in a new random order.
After each epoch the Solver measures the training and validation accuracy and keeps a
copy of the parameters that did best on validation; ``train()`` ends by putting that
best copy back into the model.

Update rules take ``(w, dw, config)`` and return ``(next_w, config)``; ``config`` holds
the hyperparameters and the rule's state (velocity, moments), one per parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

# --- update rules ----------------------------------------------------------------------


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla stochastic gradient descent: w -= learning_rate * dw.

    config: learning_rate (default 1e-2).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """SGD with momentum: v = momentum * v - learning_rate * dw; w += v.

    config: learning_rate (default 1e-2), momentum (default 0.9), velocity (state).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam: moving averages of the gradient and its square, with bias correction.

    config: learning_rate (default 1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8),
    and the state m, v and t.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * dw * dw
    m_hat = config["m"] / (1 - beta1 ** config["t"])
    v_hat = config["v"] / (1 - beta2 ** config["t"])
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w.astype(w.dtype, copy=False), config


UPDATE_RULES: dict[str, Callable] = {"sgd": sgd, "sgd_momentum": sgd_momentum, "adam": adam}


# --- the solver ------------------------------------------------------------------------


class Solver:
    """Trains a classification model with minibatch gradient descent.

    Required arguments:
    - model: an object with ``params`` and ``loss(X, y=None)`` (see the module docstring)
    - data: dict with "X_train", "y_train", "X_val", "y_val"

    Optional arguments:
    - update_rule: "sgd", "sgd_momentum", "adam", or a function (w, dw, config) -> (w, config)
    - optim_config: hyperparameters of the update rule, e.g. {"learning_rate": 1e-3}
    - lr_decay: the learning rate is multiplied by this after each epoch (default 1.0)
    - batch_size: examples per gradient step (default 100)
    - num_epochs: passes over the training data (default 10)
    - num_train_samples: training examples used to measure training accuracy each
      epoch (default 1000; None uses all of them)
    - num_val_samples: validation examples used each epoch (default None: all)
    - print_every: with verbose, also print the loss every this many iterations
    - verbose: show a progress bar and one line per epoch (default True)
    - seed: seed of the Solver's own random generator (shuffling, accuracy samples);
      None gives a different run each time

    After train():
    - loss_history: training loss of every iteration
    - train_acc_history, val_acc_history: accuracies before training, then after each epoch
    - best_val_acc, best_params: the best validation accuracy and the parameters that
      reached it (also put back into model.params)
    """

    def __init__(self, model, data: dict, **kwargs) -> None:
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.print_every = kwargs.pop("print_every", None)
        self.verbose = kwargs.pop("verbose", True)
        seed = kwargs.pop("seed", None)
        if kwargs:
            raise ValueError(f"Solver got unknown arguments: {', '.join(sorted(kwargs))}")
        if isinstance(self.update_rule, str):
            if self.update_rule not in UPDATE_RULES:
                raise ValueError(f"unknown update_rule {self.update_rule!r}; use one of {', '.join(UPDATE_RULES)}")
            self.update_rule = UPDATE_RULES[self.update_rule]
        self.rng = np.random.default_rng(seed)
        self._reset()

    def _reset(self) -> None:
        """Clear the histories and give every parameter its own copy of optim_config."""
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    def _step(self, X_batch: np.ndarray, y_batch: np.ndarray) -> float:
        """One gradient step on one minibatch; returns its loss."""
        loss, grads = self.model.loss(X_batch, y_batch)
        for name, w in self.model.params.items():
            next_w, self.optim_configs[name] = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
        self.loss_history.append(float(loss))
        return float(loss)

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Fraction of examples (a random subset of num_samples, if given) classified right."""
        n = X.shape[0]
        if num_samples is not None and n > num_samples:
            keep = self.rng.choice(n, num_samples, replace=False)
            X, y, n = X[keep], y[keep], num_samples
        predictions = [np.argmax(self.model.loss(X[i : i + batch_size]), axis=1) for i in range(0, n, batch_size)]
        return float(np.mean(np.concatenate(predictions) == y))

    def _record_accuracy(self) -> tuple[float, float]:
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: w.copy() for name, w in self.model.params.items()}
        return train_acc, val_acc

    def train(self) -> None:
        """Run the optimisation, then restore the best parameters into the model."""
        num_train = self.X_train.shape[0]
        batch_size = min(self.batch_size, num_train)
        per_epoch = max(num_train // batch_size, 1)
        total = self.num_epochs * per_epoch
        progress = _Progress(total, self.num_epochs) if self.verbose else None
        started = time.monotonic()
        try:
            train_acc, val_acc = self._record_accuracy()
            if progress:
                progress.epoch_done(0, train_acc, val_acc, None)
            for epoch in range(1, self.num_epochs + 1):
                order = self.rng.permutation(num_train)
                for k in range(per_epoch):
                    batch = order[k * batch_size : (k + 1) * batch_size]
                    loss = self._step(self.X_train[batch], self.y_train[batch])
                    t = len(self.loss_history)
                    if progress:
                        progress.step(loss)
                        if self.print_every and t % self.print_every == 0:
                            progress.print(f"(Iteration {t} / {total}) loss: {loss:.4f}")
                self.epoch = epoch
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay
                train_acc, val_acc = self._record_accuracy()
                if progress:
                    progress.epoch_done(epoch, train_acc, val_acc, loss)
        finally:
            if progress:
                progress.close()
        self.model.params = self.best_params
        self.train_seconds = time.monotonic() - started
        if self.verbose:
            print(f"Best validation accuracy {self.best_val_acc:.1%}; {self.train_seconds:.1f} s in all.")

    def plot_history(self, smooth: int = 20) -> None:
        """Plot the training loss (per iteration) and the accuracies (per epoch)."""
        import matplotlib.pyplot as plt  # imported here: training doesn't need it

        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4))
        losses = np.asarray(self.loss_history)
        ax_loss.plot(losses, ".", alpha=0.3, markersize=3, label="minibatch loss")
        if losses.size >= smooth > 1:
            running = np.convolve(losses, np.ones(smooth) / smooth, mode="valid")
            ax_loss.plot(np.arange(smooth - 1, losses.size), running, label=f"mean of {smooth}")
        ax_loss.set(title="Training loss", xlabel="iteration", ylabel="loss")
        ax_loss.legend()
        epochs = np.arange(len(self.train_acc_history))
        ax_acc.plot(epochs, self.train_acc_history, "o-", label="train")
        ax_acc.plot(epochs, self.val_acc_history, "o-", label="validation")
        ax_acc.set(title="Classification accuracy", xlabel="epoch", ylabel="accuracy")
        ax_acc.legend()
        fig.tight_layout()
        plt.show()


class _Progress:
    """A rich progress bar over all iterations, with one line per epoch above it."""

    def __init__(self, total: int, num_epochs: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.num_epochs = num_epochs
        self.bar = Progress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
        )
        self.task = self.bar.add_task("train", total=total, epoch=1, epochs=num_epochs, loss="-")
        self.bar.start()

    def step(self, loss: float) -> None:
        self.bar.update(self.task, advance=1, loss=f"{loss:.4f}")

    def print(self, text: str) -> None:
        self.bar.console.print(text, highlight=False)

    def epoch_done(self, epoch: int, train_acc: float, val_acc: float, loss: float | None) -> None:
        last = "" if loss is None else f"  loss {loss:.4f}"
        self.print(f"(Epoch {epoch} / {self.num_epochs}) train acc {train_acc:.3f}; val acc {val_acc:.3f}{last}")
        self.bar.update(self.task, epoch=min(epoch + 1, self.num_epochs))

    def close(self) -> None:
        self.bar.stop()
