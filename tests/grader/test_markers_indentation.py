"""Moving a student's region to the template's indentation: only spaces and tabs are indentation."""

from grader.markers import reindent


def test_a_line_indented_less_than_the_students_markers_keeps_only_its_code() -> None:
    assert reindent(["  x = 1"], "    ", "\t") == ["\tx = 1"]


def test_code_starting_with_letters_of_the_indentation_is_kept_whole() -> None:
    assert reindent(["  X = 1"], "    ", "  ") == ["  X = 1"]


def test_characters_other_than_spaces_and_tabs_are_not_indentation() -> None:
    assert reindent(["\x0cx = 1"], "    ", "  ") == ["  \x0cx = 1"]
