"""Reading how a student's job ran into per-exercise results and an overall status."""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from grader.assemble import Program
from grader.report import ExerciseResult, ExerciseStatus, Status
from grader.sandbox.channel import Message
from grader.sandbox.process import RunOutcome

SIGXCPU = 24
# bubblewrap reports a child killed by signal N as exit status 128 + N.
SIGNAL_EXIT_BASE = 128
KEPT = "Exercises finished before then were graded; the rest scored no points."


@dataclass
class Interpretation:
    status: Status
    message: str
    exercises: dict[str, ExerciseResult]
    unchecked: dict[str, str] = field(default_factory=dict)  # exercises whose checks do not run, and why


@dataclass
class _Run:
    """What the student's messages said, in order. They only place blame and explain failures, which
    earns nothing; only those sent before any student code ran can make it an `error`."""

    program: Program
    observation_exercises: dict[str, str]
    failures: dict[str, tuple[ExerciseStatus, str]] = field(default_factory=dict)
    remarks: dict[str, tuple[ExerciseStatus, str]] = field(default_factory=dict)
    setup_failure: str | None = None
    running: int | None = None
    checking: str | None = None
    last_started: int = -1
    student_code_started: bool = False
    memory_where: str | None = None

    def read(self, sent: Message) -> None:
        event, kind = sent.header, sent.kind
        if kind == "cell_started" and (number := _cell_number(event, self.program)) is not None:
            self.running, self.checking, self.last_started = number, None, number
            self.student_code_started |= self.program.cells[number].is_exercise_cell
        elif kind == "cell_finished":
            self.running = None
        elif kind == "cell_failed" and (number := _cell_number(event, self.program)) is not None:
            self.running = None
            if event.get("kind") == "memory":
                self._memory(self._where_cell(number))
            self._cell_failed(number, event)
        elif kind == "checking" and event.get("exercise") in self.last_cells:
            # The sandbox checks an exercise right after its last cell: one without cells never is.
            self.checking = str(event["exercise"])
        elif kind in ("observation_failed", "model_failed"):
            exercise = self.observation_exercises.get(str(event.get("name")))
            if event.get("kind") == "memory":
                self._memory(_where_checking(exercise) if exercise else "")
            if exercise is not None and exercise not in self.remarks:
                detail = str(event.get("message", ""))[:2000]
                self.remarks[exercise] = (
                    ExerciseStatus.EXCEPTION,
                    _for_student(exercise, f"when called by the grader, {detail}"),
                )

    def _memory(self, where: str) -> None:
        self.memory_where = where if self.memory_where is None else self.memory_where

    def _cell_failed(self, number: int, event: dict[str, Any]) -> None:
        cell = self.program.cells[number]
        detail = str(event.get("message", ""))[:2000]
        if cell.exercise is None and not cell.is_exercise_cell:
            if not self.student_code_started:
                self.setup_failure = self.setup_failure or detail
            return
        exercise = blame(self.program, number, event.get("raised_in"), event.get("missing_name"))
        if exercise is None:
            for used in exercises_used(self.program, number) or (cell.exercise,):
                if used is not None and used not in self.remarks:
                    note = f"Ran without errors, but {cell.label}, which uses it, failed: {detail}"
                    self.remarks[used] = (ExerciseStatus.OK, note)
        elif exercise not in self.failures:
            status = (
                ExerciseStatus.SYNTAX_ERROR
                if event.get("kind") == "syntax_error"
                else ExerciseStatus.EXCEPTION
            )
            if cell.is_exercise_cell:
                text = _for_student(exercise, detail)
            elif type(event.get("raised_in")) is int:
                text = f"Your code for '{exercise}' failed when {cell.label} used it: {detail}"
            else:
                text = f"Your code for '{exercise}' failed: {cell.label}, which uses it, failed: {detail}"
            self.failures[exercise] = (status, text)

    def _where_cell(self, number: int) -> str:
        cell = self.program.cells[number]
        if cell.is_exercise_cell:
            return f" in {cell.label}, your code for '{cell.exercise}'"
        if cell.exercise is None:
            return f" in {cell.label}, before the first exercise"
        return f" in {cell.label}, frozen code after exercise '{cell.exercise}'"

    def stopped_in(self) -> str | None:
        """The exercise that was running when the run stopped early."""
        if self.running is not None:
            return self.program.cells[self.running].exercise
        return self.checking

    def where_stopped(self) -> str:
        if self.running is not None:
            return self._where_cell(self.running)
        return _where_checking(self.checking) if self.checking else ""

    def complete(self, exercise: str) -> bool:
        """Whether the run went past the exercise's last cell and its observations before it stopped."""
        if exercise not in self.last_cells:
            return False
        if self.running is not None:
            stop = self.running
        elif self.checking is not None:
            stop = self.last_cells[self.checking]
        else:
            stop = self.last_started + 1
        return self.last_cells[exercise] < stop

    @cached_property
    def last_cells(self) -> dict[str, int]:
        """Each exercise that has cells in the program, and the number of its last one."""
        return {cell.exercise: n for n, cell in enumerate(self.program.cells) if cell.exercise is not None}


def blame(program: Program, number: int, raised_in: object, missing_name: object) -> str | None:
    """Mirrors the sandbox's rule (`blame` in runtime.py): the exercise a failing cell counts against, if
    any. An exercise's own cell, always; a course cell, only when that exercise's outputs broke it: the
    error was raised in the exercise's code, or the name the course cell missed is one the exercise was
    meant to define."""
    cell = program.cells[number]
    if cell.is_exercise_cell:
        return cell.exercise
    if type(raised_in) is int and 0 <= raised_in < number and program.cells[raised_in].is_exercise_cell:
        return program.cells[raised_in].exercise
    if type(missing_name) is not str:
        return None
    if missing_name in program.problems:
        return missing_name
    for earlier in reversed(program.cells[:number]):
        if earlier.is_exercise_cell and missing_name in earlier.provides:
            return earlier.exercise
    return None


def exercises_used(program: Program, number: int) -> tuple[str, ...]:
    """The exercises whose outputs cell `number` reads: a name an exercise's cell bound, or one an earlier
    course cell made from such names."""
    carried_by: dict[str, frozenset[str]] = {}
    for cell in program.cells[:number]:
        names = cell.names
        if cell.is_exercise_cell and cell.exercise is not None:
            carried = frozenset({cell.exercise})
        else:
            carried = frozenset().union(*(carried_by.get(name, frozenset()) for name in names.reads))
        carried_by.update(dict.fromkeys(names.binds, carried))
    reads = program.cells[number].names.reads
    used = frozenset().union(*(carried_by.get(name, frozenset()) for name in reads))
    return tuple(exercise for exercise in program.exercises if exercise in used)


def interpret(
    program: Program,
    outcome: RunOutcome,
    observation_exercises: dict[str, str],
    memory_mb: int,
    wall_seconds: float,
) -> Interpretation:
    """Per-exercise results, the exercises whose checks cannot run, and an overall status. When a limit
    stops the notebook, the exercises it had finished keep their results; the one running and those not
    reached are not checked."""
    run = _Run(program, observation_exercises)
    for sent in outcome.messages:
        run.read(sent)
    status, message = _overall(outcome, run, memory_mb, wall_seconds)
    # A run the grader's side lost is not judged at all: it is graded again.
    stopped = not outcome.finished and status is not Status.ERROR
    exercises: dict[str, ExerciseResult] = {}
    unchecked: dict[str, str] = {}
    for name in program.exercises:
        exercise_status, text = _result(name, program, run, status, message, stopped)
        exercises[name] = ExerciseResult(name=name, status=exercise_status, message=text)
        if name in program.problems or name in run.failures or (stopped and not run.complete(name)):
            unchecked[name] = text
    return Interpretation(status, message, exercises, unchecked)


def _result(
    name: str, program: Program, run: _Run, status: Status, message: str, stopped: bool
) -> tuple[ExerciseStatus, str]:
    if name in program.problems:
        return ExerciseStatus.MISSING, program.problems[name]
    if name in run.failures:
        return run.failures[name]
    if stopped and name == run.stopped_in():
        return (
            ExerciseStatus.TIMEOUT if status is Status.TIMEOUT else ExerciseStatus.EXCEPTION,
            _for_student(name, message),
        )
    if stopped and not run.complete(name):
        return ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {message}"
    if name in run.remarks:
        return run.remarks[name]
    return ExerciseStatus.OK, program.notes.get(name, "Ran without errors.")


def _overall(outcome: RunOutcome, run: _Run, memory_mb: int, wall_seconds: float) -> tuple[Status, str]:
    kept = "" if outcome.finished else f" {KEPT}"
    if outcome.sandbox_lost:
        return Status.ERROR, (
            "The grading sandbox was stopped from outside before your notebook finished; this is not your "
            "fault, and it will be graded again."
        )
    if outcome.out_of_memory or run.memory_where is not None:
        where = run.where_stopped() if not outcome.finished else (run.memory_where or "")
        return Status.MEMORY_EXCEEDED, (
            f"Your notebook used more than the {memory_mb} MB of memory allowed and was stopped{where}. Look "
            f"for very large arrays or models, or data loaded many times.{kept}"
        )
    signal = _killing_signal(outcome.exit_code)
    if outcome.timed_out or signal == SIGXCPU:
        return Status.TIMEOUT, (
            f"Your notebook ran longer than the {wall_seconds:.0f} seconds allowed and was stopped"
            f"{run.where_stopped()}. Look for an endless loop, or training with far more epochs or data "
            f"than asked.{kept}"
        )
    if run.setup_failure is not None:
        return Status.ERROR, (
            "The grader failed while preparing the assignment's own code; this is not your fault. "
            f"Please tell your instructors. ({run.setup_failure})"
        )
    if not any(message.kind == "cell_started" for message in outcome.messages):
        return (
            Status.ERROR,
            "The grader could not start your notebook; this is not your fault. Try again later.",
        )
    if outcome.unreadable:
        return Status.GRADED, (
            f"Your notebook's process sent the grader {outcome.unreadable}, so grading stopped there; "
            "what had not been checked by then scored no points. Print less, and return plain values."
        )
    if not outcome.finished:
        how = f" (it was ended by signal {signal})" if signal is not None else ""
        return Status.GRADED, (
            f"Your code ended the grading process early{how}, for example with os._exit or by killing the "
            "process; what had not run by then scored no points."
        )
    return Status.GRADED, ""


def _where_checking(exercise: str) -> str:
    return f" while the grader was calling your code for '{exercise}'"


def _killing_signal(exit_code: int | None) -> int | None:
    if exit_code is None:
        return None
    if exit_code < 0:
        return -exit_code
    return exit_code - SIGNAL_EXIT_BASE if exit_code > SIGNAL_EXIT_BASE else None


def _cell_number(event: dict[str, Any], program: Program) -> int | None:
    number = event.get("cell")
    return number if type(number) is int and 0 <= number < len(program.cells) else None


def _for_student(exercise: str, error: str) -> str:
    return f"Your code for '{exercise}' failed: {error}" if error else f"Your code for '{exercise}' failed."
