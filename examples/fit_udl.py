"""Fit the seed's UDL model to data with a gradient that adcompile generated.

    python3 examples/fit_udl.py [--points N] [--iterations K] [--plot fit.png]

1. Makes synthetic data from the seed's model, f(x) = beta3 + omega3*cos(beta2 +
   omega2*exp(beta1 + omega1*sin(beta0 + omega0*x))), with known parameters plus noise.
2. Fits the 8 parameters with ``grad_loss`` from ``generated/udl_data.py``, the module
   ``adcompile "sum((f - y)**2)" --backend numpy`` wrote (it imports only numpy):
   with ``scipy.optimize.minimize(jac=True)`` when scipy is installed, else with plain
   gradient descent and a backtracking line search.
3. Prints the loss as it falls.
4. Saves a plot of the data, the true curve and the fitted curve when matplotlib is
   installed.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from generated.udl_data import WRT, grad_loss, loss  # noqa: E402

NAMES = ["beta0", "beta1", "beta2", "beta3", "omega0", "omega1", "omega2", "omega3"]
TRUE = dict(beta0=1.0, beta1=2.0, beta2=-3.0, beta3=0.4, omega0=0.1, omega1=-0.4,
            omega2=2.0, omega3=3.0)
START = dict(beta0=0.8, beta1=1.8, beta2=-2.8, beta3=0.0, omega0=0.3, omega1=-0.2,
             omega2=1.8, omega3=2.5)


def make_data(points: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 3.0, points))
    clean = model(x, TRUE)
    return x, clean + noise * rng.normal(size=points)


def model(x: np.ndarray, params: dict) -> np.ndarray:
    """The seed's model in numpy, for making data and drawing curves."""
    p = params
    return p["beta3"] + p["omega3"] * np.cos(p["beta2"] + p["omega2"] * np.exp(
        p["beta1"] + p["omega1"] * np.sin(p["beta0"] + p["omega0"] * x)))


def value_and_grad(theta: np.ndarray, x, y) -> tuple[float, np.ndarray]:
    """Mean squared error and its gradient over the 8 parameters."""
    value, grads = grad_loss(x=x, y=y, **dict(zip(NAMES, theta)))
    by_name = dict(zip(WRT, grads))
    return value / len(x), np.array([by_name[n] for n in NAMES]) / len(x)


def fit_with_scipy(theta, x, y, iterations, report):
    from scipy.optimize import minimize

    result = minimize(value_and_grad, theta, args=(x, y), jac=True, method="L-BFGS-B",
                      callback=lambda t: report(value_and_grad(t, x, y)[0]),
                      options={"maxiter": iterations})
    return result.x


def fit_with_gradient_descent(theta, x, y, iterations, report):
    step = 1e-2
    value, grad = value_and_grad(theta, x, y)
    for _ in range(iterations):
        while True:  # backtracking: halve the step until the loss falls enough
            trial = theta - step * grad
            trial_value, trial_grad = value_and_grad(trial, x, y)
            if trial_value <= value - 0.5 * step * grad @ grad or step < 1e-12:
                break
            step /= 2
        theta, value, grad = trial, trial_value, trial_grad
        step *= 1.5
        report(value)
    return theta


def plot(path: str, x, y, theta) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    grid = np.linspace(0.0, 3.0, 300)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x, y, ".", ms=3, alpha=0.5, label="data")
    ax.plot(grid, model(grid, TRUE), label="true model")
    ax.plot(grid, model(grid, dict(zip(NAMES, theta))), "--", label="fitted")
    ax.set_xlabel("x")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return True


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", choices=("auto", "scipy", "gd"), default="auto")
    parser.add_argument("--plot", default="fit_udl.png", help="PNG to write (needs matplotlib)")
    ns = parser.parse_args(argv)
    x, y = make_data(ns.points, ns.noise, ns.seed)
    theta = np.array([START[n] for n in NAMES])
    start_loss = value_and_grad(theta, x, y)[0]
    print(f"{ns.points} points; mean squared error at the start: {start_loss:.6f}")
    history = []

    def report(value):
        history.append(value)
        if len(history) % 10 == 0:
            print(f"  iteration {len(history):4d}: {value:.6f}")

    use_scipy = ns.optimizer == "scipy" or (ns.optimizer == "auto" and _has_scipy())
    fit = fit_with_scipy if use_scipy else fit_with_gradient_descent
    print(f"fitting with {'scipy.optimize.minimize (L-BFGS-B)' if use_scipy else 'gradient descent'}")
    theta = fit(theta, x, y, ns.iterations, report)
    final = loss(x=x, y=y, **dict(zip(NAMES, theta))) / len(x)
    print(f"mean squared error at the end: {final:.6f} (noise variance {ns.noise**2:.6f}); "
          f"fell by {start_loss / final:,.0f}x")
    for name, value in zip(NAMES, theta):
        print(f"  {name:<7} fitted {value:8.4f}   true {TRUE[name]:8.4f}")
    if plot(ns.plot, x, y, theta):
        print(f"wrote {ns.plot}")
    return start_loss / final


def _has_scipy() -> bool:
    import importlib.util

    return importlib.util.find_spec("scipy") is not None


if __name__ == "__main__":
    main()
