"""Partnership profiles: one TOML file per partnership in the profiles folder, validated here.

Adding a partnership needs a new file, not code. A bad file is refused with a message naming the
file, the field and what is wrong; the worker does not start on it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from config import settings
from safeguarding.decisions import validation_problems
from safeguarding.settings import PartnershipSettings

#: The profiles shipped with the project; SRO_PROFILES points elsewhere.
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "profiles"


class ProfileError(ValueError):
    """A profile file that cannot be used, or a partnership without one."""


def profiles_folder() -> Path:
    return settings().profiles or DEFAULT_FOLDER


def parse_profile(text: str, source: str) -> PartnershipSettings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(f"{source}: not valid TOML: {err}") from None
    if "code" not in data:
        # Without one the profile would quietly take the England-wide default code.
        raise ProfileError(
            f"{source}: the profile is refused:\n"
            '  - code: missing; every profile names its partnership\'s code, e.g. code = "LSCP"'
        )
    try:
        return PartnershipSettings.model_validate(data)
    except ValidationError as err:
        problems = "\n".join(f"  - {p}" for p in validation_problems(err, whole="profile"))
        raise ProfileError(f"{source}: the profile is refused:\n{problems}") from None


#: Parsed profiles by file and the file's size and modification time: every notice reads the
#: profiles (contacts may change while cases run), and parsing them each time cost 2.6 ms a
#: notice. A changed file has a new key, so an edit is seen at once. Settings are frozen.
_parsed: dict[tuple[str, int, int], PartnershipSettings] = {}


def load_profile(path: Path) -> PartnershipSettings:
    try:
        stat = path.stat()
        # The absolute path names the file well enough (`resolve` cost 18 us a file a notice).
        key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
        if key in _parsed:
            return _parsed[key]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ProfileError(f"{path}: cannot be read: {err}") from None
    settings = parse_profile(text, str(path))
    if len(_parsed) > 256:  # a folder edited many times in one process: start again
        _parsed.clear()
    _parsed[key] = settings
    return settings


def load_profiles(folder: Path | None = None) -> dict[str, PartnershipSettings]:
    """Every profile in the folder, by partnership code. Refuses the lot if any file is bad, so
    a mistake is found when the worker starts, not when a referral arrives."""
    folder = folder or profiles_folder()
    if not folder.is_dir():
        raise ProfileError(f"{folder}: no profiles folder (set SRO_PROFILES)")
    profiles: dict[str, PartnershipSettings] = {}
    where: dict[str, Path] = {}
    errors = []
    for path in sorted(folder.glob("*.toml")):
        try:
            settings = load_profile(path)
        except ProfileError as err:
            errors.append(str(err))
            continue
        if settings.code in profiles:
            errors.append(
                f"{path}: code {settings.code!r} is already used by {where[settings.code]}"
            )
            continue
        profiles[settings.code] = settings
        where[settings.code] = path
    if errors:
        raise ProfileError("\n".join(errors))
    if not profiles:
        raise ProfileError(f"{folder}: no *.toml profiles")
    return profiles


def profile_for(code: str, folder: Path | None = None) -> PartnershipSettings:
    profiles = load_profiles(folder)
    if code not in profiles:
        known = ", ".join(sorted(profiles))
        raise ProfileError(f"no profile for partnership {code!r}; known partnerships: {known}")
    return profiles[code]
