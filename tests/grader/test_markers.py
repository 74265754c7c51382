import pytest

from grader.markers import asks_to_stop_grading, find_regions, graded_header, outside_regions, reindent

VARIANTS = [
    ("    ### START CODE HERE ###", "    ### END CODE HERE ###"),
    ("    ### START CODE HERE", "    ### END CODE HERE"),
    ("    ## START CODE HERE ###", "    ## END CODE HERE ###"),
    ("### START CODE HERE ###", "### END CODE HERE ###"),
    ("\t### START CODE HERE", "\t### END CODE HERE ##"),
    ("    ### START CODE HERE ### (≈ 2 lines of code)", "    ### END CODE HERE ###"),
    ("    ### START CODE HERE (≈ 1 line)", "    ### END CODE HERE ### (done)"),
]


@pytest.mark.parametrize(("start", "end"), VARIANTS)
def test_every_marker_variant_delimits_one_region(start: str, end: str) -> None:
    lines = ["def f():", start, "    x = 1", "    y = 2", end, "    return x"]
    regions = find_regions(lines)
    assert regions is not None and len(regions) == 1
    assert lines[regions[0].start : regions[0].end] == ["    x = 1", "    y = 2"]
    assert regions[0].indent == start[: len(start) - len(start.lstrip())]


def test_end_marker_on_the_last_line_without_newline() -> None:
    source = "class A:\n### START CODE HERE\n    pass\n### END CODE HERE"
    regions = find_regions(source.split("\n"))
    assert regions is not None and [(r.start, r.end) for r in regions] == [(2, 3)]


def test_unbalanced_markers_are_not_a_region() -> None:
    assert find_regions(["### START CODE HERE", "x = 1"]) is None
    assert find_regions(["x = 1", "### END CODE HERE"]) is None
    assert find_regions(["### START CODE HERE", "### START CODE HERE", "### END CODE HERE"]) is None


def test_a_comment_that_merely_mentions_the_marker_is_not_one() -> None:
    assert find_regions(["# write your code after ### START CODE HERE", "x = 1"]) == ()


@pytest.mark.parametrize(
    "line",
    [
        "### START CODE HERE ### x = 1",
        "### START CODE HERE ### (≈ 2 lines) x = 1",
        "### START CODE HERE ### (unclosed",
        "### START CODE HERE here",
    ],
)
def test_text_after_a_marker_is_a_marker_only_as_a_note_in_parentheses(line: str) -> None:
    assert find_regions([line, "x = 1", "### END CODE HERE ###"]) is None


def test_headers_for_functions_and_classes_even_below_an_import() -> None:
    assert graded_header("# GRADED FUNCTION: house_model\ndef house_model(): ...") == "house_model"
    assert (
        graded_header("import tensorflow as tf\n# GRADED CLASS: myCallback\nclass myCallback: ...")
        == "myCallback"
    )
    assert graded_header("# graded function is below\ndef f(): ...") is None


def test_grade_up_to_here_is_recognised_only_as_a_comment_line() -> None:
    assert asks_to_stop_grading("x = 1\n# grade-up-to-here\n")
    assert not asks_to_stop_grading("print('# grade-up-to-here')")


def test_reindent_moves_a_region_to_the_template_indentation() -> None:
    assert reindent(["  x = 1", "  if x:", "      y = 2", ""], "  ", "    ") == [
        "    x = 1",
        "    if x:",
        "        y = 2",
        "",
    ]


def test_outside_regions_ignores_markers_blank_lines_and_the_region() -> None:
    lines = [
        "def f():",
        "    ### START CODE HERE",
        "    secret = 1",
        "    ### END CODE HERE  ",
        "",
        "    return secret",
    ]
    regions = find_regions(lines)
    assert regions is not None
    assert outside_regions(lines, regions) == ["def f():", "    return secret"]
