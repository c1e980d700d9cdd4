"""The seed's UDL example written out by hand, as the tutorial does: a forward
pass computing f0, h1, ..., then a backward pass of adjoints dl_d... in reverse.
It is the benchmark's lower anchor: what a careful person would type."""

from math import cos, exp, sin


def udl_value_and_grad(x, y, beta0, beta1, beta2, beta3, omega0, omega1, omega2, omega3):
    f0 = beta0 + omega0 * x
    h1 = sin(f0)
    f1 = beta1 + omega1 * h1
    h2 = exp(f1)
    f2 = beta2 + omega2 * h2
    h3 = cos(f2)
    f3 = beta3 + omega3 * h3
    loss = (f3 - y) * (f3 - y)

    dl_df3 = 2.0 * (f3 - y)
    dl_dh3 = omega3 * dl_df3
    dl_df2 = -sin(f2) * dl_dh3
    dl_dh2 = omega2 * dl_df2
    dl_df1 = h2 * dl_dh2
    dl_dh1 = omega1 * dl_df1
    dl_df0 = cos(f0) * dl_dh1
    return loss, (dl_df0, dl_df1, dl_df2, dl_df3,
                  x * dl_df0, h1 * dl_df1, h2 * dl_df2, h3 * dl_df3)
