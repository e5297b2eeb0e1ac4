"""What a build targets when neither the command line nor a profile names it.

No imports: the CLI's parser reads these for its help texts without loading the model.
"""

from __future__ import annotations

#: The CPU of a profile that names none, of a .config, and of ``build --applet``.
DEFAULT_ARCH = "x86_64"
#: The toolchain of a profile that names none, of a .config, and of ``build --applet``.
DEFAULT_TOOLCHAIN = "zig"
