"""Plain scipy twins of the fairness kernels, the oracles of the tests.

Slow and written the obvious way, with nothing imported from the rest of
mlpipe.fairness: the profile log-likelihood of "the spread of the rates is
theta" is maximized over all the rates at once by scipy's SLSQP under the
linear constraints that say it (no clipping, no bisection).

==========================  ======================
kernel (``_kernels``)       twin
==========================  ======================
``loglik``                  :func:`loglik`
``profile``                 :func:`profile`
``deviance``                :func:`deviance`
``joint_deviance``          :func:`joint_deviance`
``exceedances``             :func:`exceedances`
``joint_exceedances``       :func:`joint_exceedances`
==========================  ======================
"""

import numpy as np
from scipy import optimize, stats


def loglik(x, n, q):
    """Binomial log-likelihood, as ``scipy.stats.binom.logpmf`` minus its
    constant (extended to float counts)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(
            np.sum(
                np.where(x > 0, x * np.log(q), 0.0)
                + np.where(n - x > 0, (n - x) * np.log1p(-q), 0.0)
            )
        )


def _constraint(i, j, theta, ratio, sign):
    """``sign * (hi(p_j) - p_i) >= 0``: pair (i, j) within (+1) or beyond
    (-1) a spread of ``theta``, linear in the rates."""

    def fun(q):
        top = q[j] / theta if ratio else q[j] + theta
        return sign * (top - q[i])

    return {"type": "ineq", "fun": fun}


def _solve(x, n, start, constraints):
    eps = 1e-12
    res = optimize.minimize(
        lambda q: -loglik(x, n, q),
        np.clip(start, eps, 1 - eps),
        method="SLSQP",
        bounds=[(eps, 1 - eps)] * len(x),
        constraints=constraints,
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return -res.fun, res.x


def profile(x, n, theta, ratio, exact):
    """Highest log-likelihood of rates whose spread is ``theta`` (``exact``)
    or within ``theta``; returns ``(loglik, rates)``.

    "Within" is a concave problem under the linear constraints
    ``p_i <= hi(p_j)`` for every pair, solved by SLSQP from several starts.
    "Exactly theta" is "within" when the observed rates spread more than
    ``theta`` (the optimum lies on the boundary), else the best over the
    ordered pairs of the problem with ``p_i >= hi(p_j)``: a grid search
    over ``p_j`` (with ``p_i = hi(p_j)``, the others at their estimates),
    refined by scipy's bounded scalar search.
    """
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    p = x / n
    k = len(p)
    observed = p.min() / p.max() if ratio else p.max() - p.min()
    wider = observed < theta if ratio else observed > theta
    pairs = [(i, j) for i in range(k) for j in range(k) if i != j]
    if wider or not exact:
        if not wider:
            return loglik(x, n, p), p
        within = [_constraint(i, j, theta, ratio, 1) for i, j in pairs]
        pooled = np.full(k, x.sum() / n.sum())
        return max((_solve(x, n, s, within) for s in (pooled, p)), key=lambda r: r[0])
    best = (-np.inf, p)
    for i, j in pairs:
        # p_j = a <= p[j], p_i = hi(a) >= p[i], hi(a) <= 1, as a 1-D search
        lo = max(0.0, p[i] * theta if ratio else p[i] - theta)
        up = min(p[j], theta if ratio else 1 - theta)
        if lo > up:
            continue

        def rates(a, i=i, j=j):
            q = p.copy()
            q[i], q[j] = (a / theta if ratio else a + theta), a
            return q

        grid = np.linspace(lo, up, 401)
        values = [loglik(x, n, rates(a)) for a in grid]
        k = int(np.argmax(values))
        res = optimize.minimize_scalar(
            lambda a: -loglik(x, n, rates(a)),
            bounds=(grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]),
            method="bounded",
            options={"xatol": 1e-14},
        )
        for a in (res.x, grid[k]):
            if loglik(x, n, rates(a)) > best[0]:
                best = (loglik(x, n, rates(a)), rates(a))
    return best


def deviance(x, n, theta, ratio):
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    return 2 * (loglik(x, n, x / n) - profile(x, n, theta, ratio, True)[0])


def joint_deviance(xa, na, xb, nb, theta, ratio):
    full = loglik(xa, na, xa / na) + loglik(xb, nb, xb / nb)
    exact_a = profile(xa, na, theta, ratio, True)[0]
    within_a = profile(xa, na, theta, ratio, False)[0]
    exact_b = profile(xb, nb, theta, ratio, True)[0]
    within_b = profile(xb, nb, theta, ratio, False)[0]
    return 2 * (full - max(exact_a + within_b, within_a + exact_b))


def _count(values, observed, tie):
    values = np.asarray(values)
    return float(np.sum(values > observed + tie) + 0.5 * np.sum(np.abs(values - observed) <= tie))


def exceedances(draws, n, theta, ratio, observed, tie):
    """Exceedances of ``observed`` over every row (ties count half), with no
    early stop."""
    return _count([deviance(row, n, theta, ratio) for row in draws], observed, tie)


def joint_exceedances(draws_a, na, draws_b, nb, theta, ratio, observed, tie):
    values = [
        joint_deviance(a, na, b, nb, theta, ratio) for a, b in zip(draws_a, draws_b, strict=True)
    ]
    return _count(values, observed, tie)


def binom_loglik_difference(x, n, p, q):
    """``loglik(x, n, p) - loglik(x, n, q)`` through scipy's binomial pmf,
    which the constant cancels out of (whole counts only)."""
    return float(np.sum(stats.binom.logpmf(x, n, p) - stats.binom.logpmf(x, n, q)))
