"""How code-table text is normalized: the same on both sides of a search."""

from patient_portal.domain.codes import text


def test_words_fold_case_accents_and_drop_filler():
    assert text.words("Sjögren syndrome, of the Lung") == ["sjogren", "syndrome", "lung"]
    assert text.words("Type 2 diabetes mellitus without complications") == [
        "type", "2", "diabetes", "mellitus", "without", "complications"]


def test_search_text_is_words_between_spaces_without_repeats():
    assert text.search_text("Amoxicillin", "Amoxil penicillins amoxicillin") == " amoxicillin amoxil penicillins "


def test_codes_compare_by_key():
    assert text.code_key("E11.9") == "e119"
    assert text.code_key("8480-6") == "84806"
    assert text.looks_like_code("E11.9") == "e119"
    assert text.looks_like_code(" 08 ") == "08"
    assert text.looks_like_code("diabetes") is None  # no digit
    assert text.looks_like_code("type 2") is None  # two words


def test_prefix_bounds_step_within_letters_and_digits():
    assert text.prefix_bounds("diab") == ("diab", "diac")
    assert text.prefix_bounds("e119") == ("e119", "e11a")  # not "e11:", which a language collation ignores
    assert text.prefix_bounds("abz") == ("abz", "ac")
    assert text.prefix_bounds("zz") == ("zz", None)
