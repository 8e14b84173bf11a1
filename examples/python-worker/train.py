#!/usr/bin/env python3
"""Logistic regression for a modelreg TRAIN task, with the standard library only.

Run by `modelreg worker --queue train -- python3 train.py`, which claims the
task, hands over its params and the checkpoint to resume from, and reads the
lines this script prints on stdout:

  ::metric name=loss value=0.31 epoch=3             a metric point
  ::progress epoch=4 total_epochs=10 fraction=0.4   the progress
  ::checkpoint dir=/abs/dir epoch=3 metric.loss=0.31 the files under dir become epoch 3's checkpoint
  ::register epoch=9 description="..."              the checkpoint of epoch 9 becomes a version

Every other line goes to the task's log. A stop sends SIGTERM: the script
ends the epoch it is in, saves it as a checkpoint and exits 0; a resumed
attempt starts after the checkpoint it is handed.

Params read (the built-in "classification" template has them all, with
defaults): num_epochs, learning_rate, batch_size, lr_decay_epochs,
lr_decay_gamma (the Piecewise policy), save_interval_epochs. The data set
and the checkpoint files (weights.json, optimizer.json) are those of the
TypeScript example, examples/training-worker.

Run alone (`python3 train.py`), it trains with the template's defaults and
writes its checkpoints under ./runs.
"""

import json
import math
import os
import signal
import sys

DATA_SEED = 20260101
SAMPLES = 2000
TEACHER_W, TEACHER_B, NOISE = [1.5, -2.0], 0.25, 0.5
MOMENTUM = 0.9
MASK = 0xFFFFFFFF

DEFAULTS = {
    "num_epochs": 4,
    "learning_rate": 0.000125,
    "batch_size": 2,
    "lr_decay_epochs": [2, 3],
    "lr_decay_gamma": 0.1,
    "save_interval_epochs": 1,
}


class Stop:
    """Set by SIGTERM; the training loop looks at it after each epoch."""

    requested = False


def on_sigterm(_signum, _frame):
    Stop.requested = True


# --- the line protocol -------------------------------------------------------


def value(v):
    """A value as the protocol reads it: bare, or quoted when it holds spaces or quotes."""
    text = repr(v) if isinstance(v, float) else str(v)
    if text and not any(c in text for c in ' \t"\\\n\r'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return '"' + escaped + '"'


def request(verb, **pairs):
    """Prints `::verb key=value ...` (keys with a dot, such as metric.loss, come in through a dict)."""
    print("::" + verb + "".join(" %s=%s" % (k, value(v)) for k, v in pairs.items()), flush=True)


# --- the data and the model ---------------------------------------------------


def random(seed):
    """mulberry32: seeded uniform numbers in [0, 1), as logreg.ts makes them."""
    state = [seed & MASK]

    def imul(a, b):
        return (a * b) & MASK

    def next_value():
        state[0] = (state[0] + 0x6D2B79F5) & MASK
        a = state[0]
        t = imul(a ^ (a >> 15), a | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & MASK)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    return next_value


def gaussian(next_value):
    return math.sqrt(-2 * math.log(1 - next_value())) * math.cos(2 * math.pi * next_value())


def make_dataset(seed=DATA_SEED, samples=SAMPLES):
    """Points around a line, labelled by the side they fall on, with noise; the last fifth held out."""
    next_value = random(seed)
    xs, ys = [], []
    for _ in range(samples):
        point = [gaussian(next_value) for _ in TEACHER_W]
        margin = sum(w * x for w, x in zip(TEACHER_W, point)) + TEACHER_B + NOISE * gaussian(next_value)
        xs.append(point)
        ys.append(1 if margin > 0 else 0)
    cut = samples * 8 // 10
    return (xs[:cut], ys[:cut]), (xs[cut:], ys[cut:])


def sigmoid(z):
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def score(model, x):
    return sum(w * xi for w, xi in zip(model["w"], x)) + model["b"]


def train_epoch(state, data, learning_rate, batch_size, epoch, seed=DATA_SEED):
    """One pass in mini-batches, shuffled by the seed and the epoch (so a resumed epoch sees the same batches)."""
    xs, ys = data
    order = list(range(len(xs)))
    next_value = random((seed ^ ((epoch + 1) * 0x9E3779B1)) & MASK)
    for i in range(len(order) - 1, 0, -1):
        j = int(next_value() * (i + 1))
        order[i], order[j] = order[j], order[i]
    model, velocity = state["model"], state["velocity"]
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        gw, gb = [0.0] * len(model["w"]), 0.0
        for i in batch:
            error = sigmoid(score(model, xs[i])) - ys[i]
            for k in range(len(gw)):
                gw[k] += error * xs[i][k] / len(batch)
            gb += error / len(batch)
        for k in range(len(gw)):
            velocity["w"][k] = MOMENTUM * velocity["w"][k] + gw[k]
            model["w"][k] -= learning_rate * velocity["w"][k]
        velocity["b"] = MOMENTUM * velocity["b"] + gb
        model["b"] -= learning_rate * velocity["b"]


def log_loss(model, data):
    xs, ys = data
    total = 0.0
    for x, y in zip(xs, ys):
        z = score(model, x)
        total += max(z, 0) + math.log1p(math.exp(-abs(z))) - y * z
    return total / len(xs)


def accuracy(model, data):
    xs, ys = data
    return sum(1 for x, y in zip(xs, ys) if (1 if score(model, x) > 0 else 0) == y) / len(xs)


def learning_rate_at(epoch, params):
    decays = sum(1 for e in params["lr_decay_epochs"] if epoch >= e)
    return params["learning_rate"] * params["lr_decay_gamma"] ** decays


# --- params and checkpoints ---------------------------------------------------


def load_params():
    """MODELREG_PARAMS (JSON), else the file MODELREG_PARAMS_FILE or ./params.json names, over the defaults."""
    text = os.environ.get("MODELREG_PARAMS")
    path = os.environ.get("MODELREG_PARAMS_FILE", "params.json")
    if text is None and os.path.exists(path):
        with open(path) as f:
            text = f.read()
    given = json.loads(text) if text else {}
    return {key: given.get(key, default) for key, default in DEFAULTS.items()}


def save_checkpoint(root, state, epoch, learning_rate, metrics):
    """Writes the epoch's files into a directory of their own and asks for them to become its checkpoint."""
    directory = os.path.abspath(os.path.join(root, "epoch-%d" % epoch))
    os.makedirs(directory, exist_ok=True)
    model = state["model"]
    with open(os.path.join(directory, "weights.json"), "w") as f:
        json.dump({"w": model["w"], "b": model["b"], "epoch": epoch}, f, indent=2)
    optimizer = {"name": "sgd-momentum", "momentum": MOMENTUM, "learning_rate": learning_rate, "velocity": state["velocity"]}
    with open(os.path.join(directory, "optimizer.json"), "w") as f:
        json.dump(optimizer, f, indent=2)
    request("checkpoint", dir=directory, epoch=epoch, **{"metric." + k: v for k, v in metrics.items()})


def load_checkpoint(directory):
    with open(os.path.join(directory, "weights.json")) as f:
        weights = json.load(f)
    with open(os.path.join(directory, "optimizer.json")) as f:
        optimizer = json.load(f)
    return {"model": {"w": weights["w"], "b": weights["b"]}, "velocity": optimizer["velocity"]}


# --- the run ------------------------------------------------------------------


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    params = load_params()
    train, test = make_dataset()
    root = os.path.join(os.environ.get("MODELREG_TASK_DIR", "runs"), "checkpoints")
    epochs = params["num_epochs"]

    state = {"model": {"w": [0.0, 0.0], "b": 0.0}, "velocity": {"w": [0.0, 0.0], "b": 0.0}}
    first = 0
    resume_dir = os.environ.get("MODELREG_RESUME_DIR")
    if resume_dir:
        state = load_checkpoint(resume_dir)
        first = int(os.environ["MODELREG_RESUME_EPOCH"]) + 1
        print("resuming from the checkpoint of epoch %d" % (first - 1), flush=True)

    metrics = {}
    for epoch in range(first, epochs):
        learning_rate = learning_rate_at(epoch, params)
        train_epoch(state, train, learning_rate, params["batch_size"], epoch)
        metrics = {"loss": log_loss(state["model"], train), "accuracy": accuracy(state["model"], test)}
        for name, v in metrics.items():
            request("metric", name=name, value=v, epoch=epoch)
        request("progress", epoch=epoch + 1, total_epochs=epochs, fraction=(epoch + 1) / epochs, message="epoch %d" % epoch)
        print("epoch %d: loss %.4f, accuracy %.3f, learning rate %s" % (epoch, metrics["loss"], metrics["accuracy"], learning_rate), flush=True)
        # A stop is answered at the end of an epoch: it is saved, and the next
        # attempt starts after it. SIGTERM can come at any line, so the flag is
        # read again after the save, and the epoch saved if it was not.
        saved = False
        if Stop.requested or epoch == epochs - 1 or (epoch + 1) % params["save_interval_epochs"] == 0:
            save_checkpoint(root, state, epoch, learning_rate, metrics)
            saved = True
        if Stop.requested:
            if not saved:
                save_checkpoint(root, state, epoch, learning_rate, metrics)
            print("stopped after epoch %d" % epoch, flush=True)
            return 0

    request("register", epoch=epochs - 1, description="logistic regression, %d epochs (Python)" % epochs)
    result_file = os.environ.get("MODELREG_RESULT_FILE")
    if result_file:
        with open(result_file, "w") as f:
            json.dump({"weights": state["model"], "metrics": metrics}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
