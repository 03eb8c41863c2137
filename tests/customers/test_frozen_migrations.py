"""Migrations run frozen code: no migration module imports the portal's apps (a
later change of the app would silently change what an old migration does). What a
data migration runs of the app is a frozen copy next to it (customers/migrations/
_frozen_*.py, skipped by Django's migration loader), which gives today the same
results as the live code it was copied from; a difference shows here."""

import ast
import base64
import importlib
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

from customers import crypto
from customers.migrations import _frozen_crypto, _frozen_search_text
from customers.search_text import name_search

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "accounts", "customers", "vip", "marketing", "care", "performance"]
OURS = {*APPS, "crm_portal", "demo"}
# What Django itself writes into a migration: the custom user manager
# (use_in_migrations) in the initial migration of accounts.
GENERATED = {("accounts/migrations/0001_initial.py", "accounts.models")}


def _migration_modules() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app / "migrations").glob("*.py"))


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) of every import, inside functions too; a relative import is
    named with its leading dots."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            dots = "." * node.level
            if node.module:
                found.append((dots + node.module, node.lineno))
            else:
                found += [(dots + alias.name, node.lineno) for alias in node.names]
    return found


def test_there_are_migrations_to_look_at():
    names = {path.name for path in _migration_modules()}
    assert {"0003_encrypt_existing_identifiers.py", "0009_later_characters.py", "_frozen_crypto.py"} <= names


def test_no_migration_imports_the_apps():
    offences = []
    for path in _migration_modules():
        where = path.relative_to(ROOT).as_posix()
        for module, line in _imports(path):
            if module.startswith("."):
                # only the frozen copies beside it, in the same migrations package
                if module.startswith("..") or not module[1:].startswith("_"):
                    offences.append(f"{where}:{line} imports {module}")
            elif module.split(".")[0] in OURS and (where, module) not in GENERATED:
                offences.append(f"{where}:{line} imports {module}")
    assert not offences, "\n".join(offences)


def test_the_one_generated_import_is_the_user_managers():
    """accounts.models is named in the initial migration only for the user manager
    Django serialises there (UserManager.use_in_migrations)."""
    tree = ast.parse((ROOT / "accounts/migrations/0001_initial.py").read_text(encoding="utf-8"))
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "accounts.models"
    ]
    in_managers = {
        id(node)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        for keyword in call.keywords
        if keyword.arg == "managers"
        for node in ast.walk(keyword.value)
    }
    assert [ast.unparse(node) for node in uses] == ["accounts.models.PortalUserManager"]
    assert all(id(node) in in_managers for node in uses)


def test_the_frozen_copies_are_not_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = {name for app, name in loader.disk_migrations if app == "customers"}
    assert "0003_encrypt_existing_identifiers" in names
    assert not {name for name in names if name.startswith("_")}


def test_the_migrations_run_the_frozen_copies():
    m0003 = importlib.import_module("customers.migrations.0003_encrypt_existing_identifiers")
    m0009 = importlib.import_module("customers.migrations.0009_later_characters")
    assert m0003.crypto is _frozen_crypto
    assert m0003.name_search is m0009.name_search is _frozen_search_text.name_search


NAMES = [
    "张三",
    "张三丰",
    "王小李",
    "李雷",
    "欧阳娜娜",
    "单田芳",
    "曾国藩",
    "尉迟恭",
    "长孙无忌",
    "万俟卨",
    "区家麟",
    "朴槿惠",
    "乐嘉",
    "重庆",
    "银行存款",
    "张 三",
    " 张三 ",
    "张三\u3000",
    "㐀㐁",
    "Anna李",
    "李Anna",
    "Tom Li",
    "O'Brien Smith-Jones",
    "JOHN 2nd",
    "123",
    "",
    "   ",
    None,
]


@pytest.mark.parametrize("name", NAMES)
def test_the_frozen_name_search_gives_the_live_result(name):
    """The live rule and the copy the migrations ran agree. If the live rule is
    changed on purpose, this fails: the copy stays as it is (it is what migrations
    0003 and 0009 wrote), and stored tokens are brought up to date by a new
    migration with its own frozen copy."""
    frozen, live = _frozen_search_text.name_search(name), name_search(name)
    assert (frozen.pinyin, frozen.initials, frozen.tokens) == (live.pinyin, live.initials, live.tokens)


KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
INDEX_KEY = base64.b64encode(b"i" * 32).decode()


@pytest.mark.parametrize("context", [crypto.ID_NUMBER, crypto.MOBILE, crypto.CONTACT])
def test_the_frozen_cipher_agrees_with_the_live_one(settings, context):
    assert (_frozen_crypto.ID_NUMBER, _frozen_crypto.MOBILE, _frozen_crypto.CONTACT) == (
        crypto.ID_NUMBER,
        crypto.MOBILE,
        crypto.CONTACT,
    )
    settings.PII_KEY_FILE = ""
    settings.PII_ENCRYPTION_KEYS = f"k2:{KEY_B},k1:{KEY_A}"
    settings.PII_BLIND_INDEX_KEY = INDEX_KEY
    frozen, live = _frozen_crypto.cipher(), crypto.cipher()
    for value in ["11010519491231002X", "13911112222", "a@example.com", "张三", ""]:
        assert frozen.blind_index(value, context=context) == live.blind_index(value, context=context)
        token = frozen.encrypt(value, context=context)
        assert token.startswith("k2$") or value == ""
        assert live.decrypt(token, context=context) == value
        assert frozen.decrypt(live.encrypt(value, context=context), context=context) == value
    old = crypto.PiiCipher(crypto.KeyRing.parse(encryption_keys=f"k1:{KEY_A}", blind_index_key=INDEX_KEY))
    assert frozen.decrypt(old.encrypt("13911112222", context=context), context=context) == "13911112222"
    with pytest.raises(_frozen_crypto.DecryptionError):
        frozen.decrypt("k9$AAAA", context=context)


def test_the_frozen_cipher_reads_the_key_file(settings, tmp_path):
    key_file = tmp_path / "keys.env"
    key_file.write_text(f"# keys\nPII_ENCRYPTION_KEYS=f1:{KEY_A}\nPII_BLIND_INDEX_KEY={INDEX_KEY}\n")
    settings.PII_KEY_FILE = str(key_file)
    frozen, live = _frozen_crypto.cipher(), crypto.cipher()
    assert frozen.blind_index("13911112222", context=crypto.MOBILE) == live.blind_index(
        "13911112222", context=crypto.MOBILE
    )
    assert live.decrypt(frozen.encrypt("x", context=crypto.CONTACT), context=crypto.CONTACT) == "x"
