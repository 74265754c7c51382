"""The ImageDataGenerator version of the course's week-4 notebook, unmodified, on Keras 3."""

from course_grading import Grade, assert_course_notebook_unmodified, assert_solution_full_and_template_zero

from grader import Catalog

SLUG = "c1w4-happy-sad-imagedatagenerator"


def test_the_template_is_the_course_notebook_byte_for_byte(catalog: Catalog) -> None:
    assert_course_notebook_unmodified(
        catalog.get(SLUG).directory,
        path="C1/W4/assignment/C1W4_Assignment.ipynb",
        commit="c203f11d4355869fc4df542d4bcf503ff188f981",
        sha256="300243ad903e6d941749c414f28b9b7c86f16495c30555e18051cdd1aa03173a",
        blob_id="cb964947ed3dd3047698fa9cb4ce6f4f6ae128b3",
    )


def test_solution_earns_full_points_and_template_none(catalog: Catalog, grade: Grade) -> None:
    assert_solution_full_and_template_zero(SLUG, catalog, grade)
