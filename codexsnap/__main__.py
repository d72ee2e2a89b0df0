"""Allow ``python -m codexsnap``."""

from codexsnap.cli import main

if __name__ == "__main__":
    main()
