"""The syntax of each language an exported file is written in: Python, C and JavaScript.

A ``Writer`` collects the lines of one file. The exporters say *what* to write (declare an
array, open a loop, assign with a comment); the writer of each language says *how*. The math
of each operation is not here: it comes from ``autograd_lite.expressions`` (``ops.py``).

>>> w = writer("c")
>>> w.array("L0_b", [0.35, 0.35], "biases of layer 0")
>>> with w.function("forward"):
...     with w.loop("j", 2):
...         w.assign("L0_z[j]", "L0_b[j]", "z = b, to start")
>>> print(w.text())
static double L0_b[2] = {0.35, 0.35};  // biases of layer 0
<BLANKLINE>
static void forward(void) {
    for (int j = 0; j < 2; j++) {
        L0_z[j] = L0_b[j];  // z = b, to start
    }
}
"""

from __future__ import annotations

import builtins
import math
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

LANGUAGES = ("python", "c", "javascript")  # of an exported file (render.SYNTAXES adds NumPy)
EXTENSIONS = {"python": ".py", "c": ".c", "javascript": ".js"}
WIDTH = 100  # wrap long rows of numbers at this width

# Words a generated name must not be (it gets a suffix instead): keywords, the names the
# files themselves use, Python's builtins, what C's headers declare (y0 and j1 are Bessel
# functions there) and JavaScript's globals. The ops' helper functions (relu_forward, ...)
# are reserved by ops.helper_names().
RESERVED = frozenset(
    """and as assert async await break case catch char class const continue def default del
    delete do double elif else enum except extern false finally float for from function global
    goto if import in int is lambda let long main math new nonlocal not null or pass print
    printf raise register return short signed sizeof static struct switch this throw true try
    typedef typeof undefined union unsigned var void volatile while with yield None True False
    Math console exp log sqrt tanh fabs pow floor forward backward sgd_step lr shortest refuse
    exact_sum left_to_right abs sum range repr Array Number String Infinity NaN INFINITY
    isfinite isinf isnan snprintf sscanf sprintf puts fma j0 j1 jn y0 y1 yn""".split()
)
# the rest of what C's <math.h>, <stdio.h> and <stdlib.h> declare, JavaScript's globals and
# Python's builtins: a label "sin", "exit" or "len" would clash with them
LIBRARY_NAMES = frozenset(dir(builtins)) | frozenset(
    """acos acosh asin asinh atan atan2 atanh cbrt ceil copysign cos cosh erf erfc exp2
    expm1 fdim fmax fmin fmod frexp hypot ilogb ldexp lgamma llrint llround log10 log1p log2
    logb lrint lround modf nan nearbyint nextafter nexttoward remainder remquo rint round
    scalbln scalbn sin sinh tan tgamma trunc signbit fpclassify isnormal isgreater isless
    HUGE_VAL NAN M_PI EOF FILE stdin stdout stderr fprintf printf fputs putchar getchar
    exit abort atexit malloc calloc realloc free atoi atof strtod rand srand qsort errno
    size_t NULL div labs system getenv BigInt Boolean Date Error JSON Object Promise Symbol
    Set Map RegExp globalThis process require module exports eval parseFloat parseInt
    isFinite isNaN arguments""".split()
)
RESERVED |= LIBRARY_NAMES


def number(x: float) -> str:
    """A float as a literal every language reads back to the same double: Python's repr,
    the fewest digits that do (``1e-07`` reads as the same double in C and JavaScript too).

    >>> number(0.1), number(2.0), number(-1e-12)
    ('0.1', '2.0', '-1e-12')
    """
    if not math.isfinite(x):
        raise ValueError(f"export: cannot write the non-finite number {x!r} into a source file")
    return repr(float(x))


def printed(x: float) -> str:
    """The text every exported file prints for ``x``, whatever its language: Python's repr
    (the fewest digits that read back as ``x``, ``1e-07``, ``1.5e+16``, ``inf``, ``nan``),
    and ``0.0`` for -0.0 (the engine's gradients are 0.0 where a file may get -0.0).

    >>> printed(0.1 + 0.2), printed(1e-7), printed(-0.0), printed(1e16), printed(-math.inf)
    ('0.30000000000000004', '1e-07', '0.0', '1e+16', '-inf')
    """
    return repr(float(x) + 0.0)  # -0.0 + 0.0 is 0.0; any other x + 0.0 is x


class Writer:
    """Lines of a source file, with indentation. Subclasses spell each statement."""

    language = ""
    comment_mark = "#"
    end = ""  # statement terminator

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    # --- plumbing ----------------------------------------------------------------------

    def line(self, code: str = "", comment: str = "") -> None:
        indent = "    " * self.depth if code or comment else ""
        if code and comment:
            self.lines.append(f"{indent}{code}  {self.comment_mark} {comment}")
        elif comment:
            self.lines.append(f"{indent}{self.comment_mark} {comment}")
        else:
            self.lines.append(f"{indent}{code}")

    def comment(self, text: str) -> None:
        """A comment on lines of its own, wrapped."""
        width = WIDTH - 4 * self.depth - len(self.comment_mark) - 1
        for part in textwrap.wrap(text, width) or [""]:
            self.line(comment=part)

    def blank(self, count: int = 1) -> None:
        """End with ``count`` blank lines (no more are added if there are some already)."""
        if not self.lines:
            return
        trailing = len(self.lines) - len("\n".join(self.lines).rstrip("\n").split("\n"))
        self.lines.extend([""] * (count - trailing))

    @property
    def around_functions(self) -> int:
        """Blank lines around a top-level function (Python's style asks for 2)."""
        return 1

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    # --- statements --------------------------------------------------------------------

    def assign(self, target: str, expression: str, comment: str = "") -> None:
        self.line(f"{target} = {expression}{self.end}", comment)

    def check_function(
        self, name: str, parameters: Sequence[str], cases: Sequence[tuple[str, str, str]], doc: str
    ) -> None:
        """A function that stops the program where the engine refuses: for each case
        (condition, error type, reason), ``refuse("{error}: {reason}")`` if it holds."""
        self.blank(self.around_functions)
        self.comment(doc)
        self.line(f"{self.procedure_signature(name, parameters)} {{")
        for condition, error, reason in cases:
            message = f"{error}: {reason}".replace("\\", "\\\\").replace('"', '\\"')
            self.line(f'    if ({condition}) refuse("{message}");')
        self.line("}")
        self.blank(self.around_functions)

    def procedure_signature(self, name: str, parameters: Sequence[str]) -> str:
        raise NotImplementedError

    def define_refuse(self) -> None:
        """The function ``refuse(why)`` the checks call."""
        self.blank(self.around_functions)
        for line in REFUSE[self.language]:
            self.line(line)
        self.blank(self.around_functions)

    def add_to(self, target: str, expression: str, comment: str = "") -> None:
        self.line(f"{target} += {expression}{self.end}", comment)

    def subtract_from(self, target: str, expression: str, comment: str = "") -> None:
        self.line(f"{target} -= {expression}{self.end}", comment)

    def local(self, name: str, expression: str, comment: str = "") -> None:
        """A new variable local to the current block."""
        self.assign(name, expression, comment)

    def function_returning(
        self, name: str, parameters: Sequence[str], expression: str, doc: str
    ) -> None:
        """A small function of numbers that returns ``expression``."""
        raise NotImplementedError

    def _rows(self, values: Sequence[float], open_: str, close: str) -> list[str]:
        """``open_ a, b, c close`` wrapped to the width, continuation lines indented."""
        numbers = [number(v) for v in values]
        body = ", ".join(numbers)
        width = WIDTH - 4 * (self.depth + 1)
        if len(body) + len(open_) + len(close) <= width:
            return [f"{open_}{body}{close}"]
        wrapped = textwrap.wrap(body, width - 4, break_on_hyphens=False)
        return [open_, *("    " + part for part in wrapped), close]

    # --- declarations: the same shape in every language, spelled by a few hooks ----------

    brackets = ("[", "]")  # around the numbers of an array literal
    scalar_keyword = ""  # what declares a module-level number ("let", "static double")

    def array_declaration(self, name: str, shape: Sequence[int]) -> str:
        """What stands left of ``=`` when an array of ``shape`` is declared."""
        return name

    def scalar(self, name: str, value: float, comment: str = "") -> None:
        self.assign(f"{self.scalar_keyword} {name}".strip(), number(value), comment)

    def array(self, name: str, values: Sequence[float], comment: str = "") -> None:
        open_, close = self.brackets
        rows = self._rows(values, open_, close)
        declared = self.array_declaration(name, [len(values)])
        if len(rows) == 1:
            self.assign(declared, rows[0], comment)
            return
        if comment:
            self.comment(comment)
        self.line(f"{declared} = {rows[0]}")
        for row in rows[1:-1]:
            self.line(row)
        self.line(rows[-1] + self.end)

    def matrix(self, name: str, rows: Sequence[Sequence[float]], comment: str = "") -> None:
        open_, close = self.brackets
        if comment:
            self.comment(comment)
        self.line(f"{self.array_declaration(name, [len(rows), len(rows[0])])} = {open_}")
        self.depth += 1
        for row in rows:
            for part in self._rows(row, open_, close + ","):
                self.line(part)
        self.depth -= 1
        self.line(close + self.end)

    def declare_many(self, names: Sequence[str], comment: str) -> None:
        """Number variables that the passes set before any use (C and JavaScript declare
        them; Python makes them when a function assigns them)."""
        if not names:
            return
        self.comment(comment)
        width = WIDTH - len(self.scalar_keyword) - 2
        for part in textwrap.wrap(", ".join(names), width):
            self.line(f"{self.scalar_keyword} {part.rstrip(',')}{self.end}")

    # --- language-specific ----------------------------------------------------------------

    def header(self, title: str, description: str) -> None:
        raise NotImplementedError

    def zeros(self, name: str, shape: Sequence[int], comment: str = "") -> None:
        raise NotImplementedError

    @contextmanager
    def function(self, name: str, globals_assigned: Sequence[str] = ()) -> Iterator[None]:
        raise NotImplementedError
        yield

    @contextmanager
    def loop(self, index: str, count: int | str) -> Iterator[None]:
        raise NotImplementedError
        yield

    @contextmanager
    def loop_back(self, index: str, count: int) -> Iterator[None]:
        """``index`` from ``count - 1`` down to 0."""
        raise NotImplementedError
        yield

    @contextmanager
    def loop_over(self, index: str, values: Sequence[int]) -> Iterator[None]:
        """``index`` taking ``values``, in that order."""
        raise NotImplementedError
        yield

    def define_shortest(self) -> None:
        """The function ``shortest(x)`` that ``print_number`` prints numbers with: the text
        ``printed(x)`` gives, so that every language prints the same digits."""
        self.blank(self.around_functions)
        for line in SHORTEST[self.language]:
            self.line(line)
        self.blank(self.around_functions)

    def call(self, name: str) -> None:
        self.line(f"{name}(){self.end}")

    def print_number(self, parts: Sequence[str], expression: str) -> None:
        """Print ``text = value`` where ``parts`` alternates text and loop indices:
        ``["dE/dL0_n", "j", "_w", "i"]`` prints ``dE/dL0_n1_w0 = ...``."""
        raise NotImplementedError

    def entry_point(self) -> None:
        raise NotImplementedError


def _spell(parts: Sequence[str]) -> tuple[list[str], list[str]]:
    """(texts, indices) of ``[text, index, text, index, ...]``; one more text than indices."""
    texts = [p for k, p in enumerate(parts) if k % 2 == 0]
    indices = [p for k, p in enumerate(parts) if k % 2 == 1]
    return texts + [""] * (len(indices) + 1 - len(texts)), indices


def _interleave(texts: Sequence[str], indices: Sequence[str], hole: str) -> str:
    """texts[0] hole(indices[0]) texts[1] ... ; ``hole`` is a format with ``{}``."""
    return "".join(t + (hole.format(i) if k < len(indices) else "") for k, (t, i) in
                   enumerate(zip(texts, [*indices, ""])))  # fmt: skip


class PythonWriter(Writer):
    language = "python"

    def check_function(
        self, name: str, parameters: Sequence[str], cases: Sequence[tuple[str, str, str]], doc: str
    ) -> None:
        self.blank(self.around_functions)
        self.line(f"def {name}({', '.join(parameters)}):")
        self.line(f'    """{doc}."""')
        for condition, error, reason in cases:
            self.line(f"    if {condition}:")
            self.line(f"        raise {error}({reason!r})")
        self.blank(self.around_functions)

    @property
    def around_functions(self) -> int:
        return 2

    def header(self, title: str, description: str) -> None:
        first, *rest = textwrap.wrap(title, WIDTH - 3)
        self.line('"""' + first)
        for part in rest:
            self.line(part)
        self.line()
        for paragraph in description.split("\n\n"):
            for part in textwrap.wrap(paragraph, WIDTH):
                self.line(part)
            self.line()
        self.lines[-1] = '"""'
        self.line()
        self.line("import math")
        self.blank()

    def declare_many(self, names: Sequence[str], comment: str) -> None:
        if names:  # Python makes a variable when a function assigns it (``global``)
            self.comment(f"{comment}: {', '.join(names)}")

    def zeros(self, name: str, shape: Sequence[int], comment: str = "") -> None:
        if len(shape) == 1:
            self.assign(name, f"[0.0] * {shape[0]}", comment)
        else:
            self.assign(name, f"[[0.0] * {shape[1]} for _ in range({shape[0]})]", comment)

    @contextmanager
    def function(self, name: str, globals_assigned: Sequence[str] = ()) -> Iterator[None]:
        self.blank(self.around_functions)
        self.line(f"def {name}():")
        self.depth += 1
        if globals_assigned:  # Python needs this to assign a module-level number
            for part in textwrap.wrap(", ".join(globals_assigned), WIDTH - 11):
                self.line(f"global {part.rstrip(',')}")
        yield
        self.depth -= 1
        self.blank(self.around_functions)

    def function_returning(
        self, name: str, parameters: Sequence[str], expression: str, doc: str
    ) -> None:
        self.blank(self.around_functions)
        self.line(f"def {name}({', '.join(parameters)}):")
        lines = textwrap.wrap(doc, WIDTH - 7)
        if len(lines) == 1:
            self.line(f'    """{doc}"""')
        else:
            self.line(f'    """{lines[0]}')
            for part in lines[1:]:
                self.line(f"    {part}")
            self.line('    """')
        self.line(f"    return {expression}")
        self.blank(self.around_functions)

    @contextmanager
    def loop(self, index: str, count: int | str) -> Iterator[None]:
        self.line(f"for {index} in range({count}):")
        self.depth += 1
        yield
        self.depth -= 1

    @contextmanager
    def loop_back(self, index: str, count: int) -> Iterator[None]:
        self.line(f"for {index} in reversed(range({count})):")
        self.depth += 1
        yield
        self.depth -= 1

    @contextmanager
    def loop_over(self, index: str, values: Sequence[int]) -> Iterator[None]:
        self.line(f"for {index} in ({', '.join(map(str, values))}{',' * (len(values) == 1)}):")
        self.depth += 1
        yield
        self.depth -= 1

    def print_number(self, parts: Sequence[str], expression: str) -> None:
        texts, indices = _spell(parts)
        spelled = _interleave(texts, indices, "{{{}}}")
        self.line(f'print(f"{spelled} = {{shortest({expression})}}")')

    def entry_point(self) -> None:
        self.blank(self.around_functions)
        self.line('if __name__ == "__main__":')
        self.line("    main()")


class BraceWriter(Writer):
    """What C and JavaScript share: block comments, braces, ``for (...; i < n; i++)``."""

    comment_mark = "//"
    end = ";"
    preamble: tuple[str, ...] = ()
    index_keyword = ""  # "int" or "let"

    def header(self, title: str, description: str) -> None:
        first, *rest = textwrap.wrap(title, WIDTH - 3)
        self.line("/* " + first)
        for part in rest:
            self.line(" * " + part)
        self.line(" *")
        for paragraph in description.split("\n\n"):
            for part in textwrap.wrap(paragraph, WIDTH - 3):
                self.line(" * " + part)
            self.line(" *")
        self.lines[-1] = " */"
        for line in self.preamble:
            self.line(line)
        self.blank()

    def signature(self, name: str) -> str:
        raise NotImplementedError

    def returning_signature(self, name: str, parameters: Sequence[str]) -> str:
        raise NotImplementedError

    @contextmanager
    def function(self, name: str, globals_assigned: Sequence[str] = ()) -> Iterator[None]:
        self.blank(self.around_functions)
        self.line(f"{self.signature(name)} {{")
        self.depth += 1
        yield
        self.depth -= 1
        self.line("}")
        self.blank(self.around_functions)

    def function_returning(
        self, name: str, parameters: Sequence[str], expression: str, doc: str
    ) -> None:
        self.blank(self.around_functions)
        self.comment(doc)
        self.line(f"{self.returning_signature(name, parameters)} {{")
        self.line(f"    return {expression};")
        self.line("}")
        self.blank(self.around_functions)

    @contextmanager
    def loop(self, index: str, count: int | str) -> Iterator[None]:
        self.line(f"for ({self.index_keyword} {index} = 0; {index} < {count}; {index}++) {{")
        self.depth += 1
        yield
        self.depth -= 1
        self.line("}")

    @contextmanager
    def loop_back(self, index: str, count: int) -> Iterator[None]:
        self.line(f"for ({self.index_keyword} {index} = {count - 1}; {index} >= 0; {index}--) {{")
        self.depth += 1
        yield
        self.depth -= 1
        self.line("}")


class CWriter(BraceWriter):
    language = "c"
    preamble = ("#include <math.h>", "#include <stdio.h>", "#include <stdlib.h>")
    brackets = ("{", "}")
    scalar_keyword = "static double"
    index_keyword = "int"

    def local(self, name: str, expression: str, comment: str = "") -> None:
        self.assign(f"double {name}", expression, comment)

    def array_declaration(self, name: str, shape: Sequence[int]) -> str:
        return f"static double {name}{''.join(f'[{n}]' for n in shape)}"

    def zeros(self, name: str, shape: Sequence[int], comment: str = "") -> None:
        self.line(f"{self.array_declaration(name, shape)};", comment or "starts at 0")

    def signature(self, name: str) -> str:
        return "int main(void)" if name == "main" else f"static void {name}(void)"

    def returning_signature(self, name: str, parameters: Sequence[str]) -> str:
        arguments = ", ".join(f"double {p}" for p in parameters) or "void"
        return f"static double {name}({arguments})"

    def procedure_signature(self, name: str, parameters: Sequence[str]) -> str:
        return self.returning_signature(name, parameters).replace("double", "void", 1)

    @contextmanager
    def loop_over(self, index: str, values: Sequence[int]) -> Iterator[None]:
        order = f"(const int[]){{{', '.join(map(str, values))}}}"
        self.line(f"for (int k = 0; k < {len(values)}; k++) {{")
        self.depth += 1
        self.line(f"int {index} = {order}[k];")
        yield
        self.depth -= 1
        self.line("}")

    def print_number(self, parts: Sequence[str], expression: str) -> None:
        texts, indices = _spell(parts)
        spelled = "%d".join(texts)
        arguments = "".join(f"{i}, " for i in indices)
        self.line(f'printf("{spelled} = %s\\n", {arguments}shortest({expression}));')

    def entry_point(self) -> None:
        pass  # main() is the entry point by name


class JavaScriptWriter(BraceWriter):
    language = "javascript"
    preamble = ('"use strict";',)
    scalar_keyword = "let"
    index_keyword = "let"

    def local(self, name: str, expression: str, comment: str = "") -> None:
        self.assign(f"let {name}", expression, comment)

    def array_declaration(self, name: str, shape: Sequence[int]) -> str:
        return f"const {name}"

    def zeros(self, name: str, shape: Sequence[int], comment: str = "") -> None:
        if len(shape) == 1:
            value = f"new Array({shape[0]}).fill(0)"
        else:
            value = f"Array.from({{ length: {shape[0]} }}, () => new Array({shape[1]}).fill(0))"
        self.assign(f"const {name}", value, comment)

    def signature(self, name: str) -> str:
        return f"function {name}()"

    def returning_signature(self, name: str, parameters: Sequence[str]) -> str:
        return f"function {name}({', '.join(parameters)})"

    def procedure_signature(self, name: str, parameters: Sequence[str]) -> str:
        return self.returning_signature(name, parameters)

    @contextmanager
    def loop_over(self, index: str, values: Sequence[int]) -> Iterator[None]:
        self.line(f"for (const {index} of [{', '.join(map(str, values))}]) {{")
        self.depth += 1
        yield
        self.depth -= 1
        self.line("}")

    def print_number(self, parts: Sequence[str], expression: str) -> None:
        texts, indices = _spell(parts)
        spelled = _interleave(texts, indices, "${{{}}}")
        self.line(f"console.log(`{spelled} = ${{shortest({expression})}}`);")

    def entry_point(self) -> None:
        self.blank()
        self.line("main();")


# refuse(why) in C and JavaScript: where the engine raises, the file says what it would raise
# and stops (a C double or a JavaScript number would go on as inf or NaN, silently).
REFUSE = {
    "c": [
        "/* where the engine refuses: its error, and the program stops (exit code 1) */",
        "static void refuse(const char *why) {",
        '    fprintf(stderr, "%s\\n", why);',
        "    exit(1);",
        "}",
    ],
    "javascript": [
        "// where the engine refuses: its error, and the program stops (exit code 1)",
        "function refuse(why) {",
        "    console.error(why);",
        "    process.exit(1);",
        "}",
    ],
}


# shortest(x) in each language: the text ``printed(x)`` gives. C's printf has no format for
# the fewest digits, JavaScript's String(x) finds them but writes 1e-7 where Python writes
# 1e-07: both are written out here. Python's repr is the reference.
SHORTEST = {
    "python": (
        "def shortest(x):",
        '    """x as every exported file prints it, in any language: Python\'s repr (the fewest',
        '    digits that read back as x), and 0.0 for -0.0 (x + 0.0 is x for any other x)."""',
        "    return repr(x + 0.0)",
    ),
    "c": tuple(
        r"""
/* x as Python prints it (repr), so that the files of every language print the same text:
   the fewest digits that read back as x (printf's %.17g always writes 17), plainly from
   0.0001 to 1e16 (0.001, 12.5, 100.0) and with an exponent outside (1e-05, 1.5e+16);
   -0 prints as 0.0. */
static const char *shortest(double x) {
    static char text[64];
    char form[32], digits[24];
    double size = fabs(x), back;
    long long mantissa = 0;
    int precision, exponent = 0, n, point, k;
    if (isnan(x)) return "nan";
    if (isinf(x)) return x > 0.0 ? "inf" : "-inf";
    if (x == 0.0) return "0.0";
    for (precision = 1; precision <= 17; precision++) {
        /* the nearest decimal of this many digits, d.ddde+XX: mantissa x 10^exponent */
        snprintf(form, sizeof form, "%.*e", precision - 1, size);
        for (k = n = 0; form[k] != 'e'; k++)
            if (form[k] != '.') digits[n++] = form[k];
        digits[n] = '\0';
        sscanf(digits, "%lld", &mantissa);
        sscanf(form + k + 1, "%d", &exponent);
        exponent -= precision - 1;
        sscanf(form, "%lf", &back);
        if (back == size) break;
        /* just above a power of two, doubles are twice as far apart as just below it:
           there the next decimal up may read back as x where the nearest (below) does not */
        snprintf(form, sizeof form, "%llde%d", mantissa + 1, exponent);
        sscanf(form, "%lf", &back);
        if (back == size) {
            mantissa += 1;
            break;
        }
    }
    n = snprintf(digits, sizeof digits, "%lld", mantissa);
    while (digits[n - 1] == '0') { /* 1200 x 10^-3 is 12 x 10^-1 */
        digits[--n] = '\0';
        exponent += 1;
    }
    point = n + exponent; /* x = 0.digits x 10^point */
    k = snprintf(text, sizeof text, "%s", x < 0.0 ? "-" : "");
    if (point <= -4 || point > 16) /* 1.5e-05, 1e+16 */
        snprintf(text + k, sizeof text - k, "%c%s%se%+03d", digits[0], n > 1 ? "." : "",
                 digits + 1, point - 1);
    else if (point <= 0) /* 0.0015 */
        snprintf(text + k, sizeof text - k, "0.%.*s%s", -point, "000", digits);
    else if (point < n) /* 12.5 */
        snprintf(text + k, sizeof text - k, "%.*s.%s", point, digits, digits + point);
    else /* 1200.0 */
        snprintf(text + k, sizeof text - k, "%s%.*s.0", digits, point - n, "0000000000000000");
    return text;
}""".strip().splitlines()
    ),
    "javascript": tuple(
        r"""
// x as Python prints it (repr), so that the files of every language print the same text:
// the fewest digits that read back as x (String(x) finds them too, but writes 1e-7 and
// 1e+21), plainly from 0.0001 to 1e16 (0.001, 12.5, 100.0) and with an exponent outside
// (1e-05, 1.5e+16); -0 prints as 0.0.
function shortest(x) {
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return "0.0";
    const [plain, power = "0"] = String(Math.abs(x)).split("e");  // "0.001", "1.5e-7"
    const [whole, fraction = ""] = plain.split(".");
    let digits = whole + fraction;
    let point = whole.length + Number(power);  // x = 0.digits × 10^point
    while (digits[0] === "0") {  // 0.001: digits 1, point -2
        digits = digits.slice(1);
        point -= 1;
    }
    digits = digits.replace(/0+$/, "");  // 1e20 is written 100000000000000000000
    const sign = x < 0 ? "-" : "";
    if (point <= -4 || point > 16) {  // 1.5e-05, 1e+16
        const e = point - 1;
        const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
        return `${sign}${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    }
    if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;  // 0.0015
    if (point < digits.length) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
    return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;  // 1200.0
}""".strip().splitlines()
    ),
}

_WRITERS: dict[str, type[Writer]] = {
    "python": PythonWriter,
    "c": CWriter,
    "javascript": JavaScriptWriter,
}


def check_language(language: object) -> str:
    """The language name, or a ``ValueError`` naming the choices.

    >>> check_language("js")
    Traceback (most recent call last):
    ...
    ValueError: export: unknown language 'js'; choose one of python, c, javascript
    """
    if not isinstance(language, str) or language not in _WRITERS:
        raise ValueError(
            f"export: unknown language {language!r}; choose one of {', '.join(LANGUAGES)}"
        )
    return language


def writer(language: str) -> Writer:
    """A fresh writer for ``language`` (one of ``LANGUAGES``)."""
    return _WRITERS[check_language(language)]()
