"""The optional compiled core: built where a C compiler is found, skipped (with one
line saying so) where not; simplemr then runs its pure-Python core."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler at all
            self._skipped(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:  # the compiler failed
            self._skipped(error)

    def _skipped(self, error: Exception) -> None:
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        print(f"simplemr: the compiled core was not built ({reason}); the pure-Python core runs")


setup(
    ext_modules=[
        Extension(
            "simplemr.core._speedups",
            ["src/simplemr/core/_speedups.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
