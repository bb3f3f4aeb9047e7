from colors import hsv_to_rgb, rgb_to_hsv


def test_round_trip():
    for rgb in [(0.2, 0.4, 0.6), (1.0, 0.0, 0.0), (0.5, 0.5, 0.5)]:
        back = hsv_to_rgb(*rgb_to_hsv(*rgb))
        assert all(abs(a - b) < 1e-9 for a, b in zip(rgb, back))


def test_documented():
    assert rgb_to_hsv.__doc__ and rgb_to_hsv.__doc__.strip()
