def test_seed_data_is_loaded(db):
    from counties.models import County, Municipality
    from directory.models import Language, Specialty

    assert County.objects.count() == 15
    assert Municipality.objects.count() == 357
    assert Specialty.objects.filter(slug="psychiatry").exists()
    assert Language.objects.filter(code="nb").exists()
