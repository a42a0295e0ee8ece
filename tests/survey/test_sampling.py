from cegah.survey.sampling import allocate, draw, sample_size


def test_sample_size_uses_margin_confidence_and_fpc() -> None:
    assert sample_size(10**9) == 385  # 1.96² · 0.25 / 0.05², rounded up
    assert sample_size(1000) == 278
    assert sample_size(100) == 80
    assert sample_size(10) == 10
    assert sample_size(1000, margin=0.10) == 88
    assert sample_size(0) == 0


def test_small_units_are_surveyed_in_full_and_large_ones_proportionally() -> None:
    strata = allocate({(1, "internal"): 20, (2, "internal"): 600, (3, "internal"): 400})
    by_unit = {s.unit_id: s for s in strata}
    assert by_unit[1].census and by_unit[1].sample == 20
    assert not by_unit[2].census
    total = sample_size(1020)
    assert by_unit[2].sample >= total * 600 / 1020
    assert by_unit[2].sample + by_unit[3].sample <= total + 2


def test_draw_is_reproducible_from_the_seed() -> None:
    members = {(1, "internal"): list(range(100, 400)), (2, "external"): list(range(5))}
    strata = allocate({k: len(v) for k, v in members.items()})
    first = draw(members, strata, seed=42)
    shuffled = {k: list(reversed(v)) for k, v in members.items()}
    assert draw(shuffled, strata, seed=42) == first
    assert draw(members, strata, seed=43) != first
    assert set(range(5)) <= set(first)
    assert len(first) == sum(s.sample for s in strata)
