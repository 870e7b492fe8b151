import os
import secrets
from pathlib import Path

import pytest

from reporting import create_app
from reporting.config import ConfigError, load_config, on_toolforge, readme_table
from reporting.storage.crypto import generate_key


def test_defaults_apply_without_any_configuration():
    config = load_config(environ={})
    assert config["session_lifetime_hours"] == 12
    assert config["oauth.index_url"] == "https://meta.wikimedia.org/w/index.php"
    assert config["dev_login"] is False


def test_layers_envvars_beat_config_file_which_beats_defaults(tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text("session_lifetime_hours: 3\noauth:\n  consumer_key: from-file\n  index_url: https://x/w/index.php\n")
    os.chmod(config_file, 0o600)
    config = load_config(environ={"TOOL_OAUTH__CONSUMER_KEY": "from-env"}, config_file=config_file)
    assert config["session_lifetime_hours"] == 3
    assert config["oauth.consumer_key"] == "from-env"
    assert config["oauth.index_url"] == "https://x/w/index.php"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_config_file_readable_by_others_is_refused(tmp_path, mode):
    config_file = tmp_path / "config.yaml"
    config_file.write_text("secret_key: s3cret\n")
    os.chmod(config_file, mode)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(environ={}, config_file=config_file)


@pytest.mark.parametrize("environ, overrides, key", [
    ({"TOOL_SESSION_LIFETIME_HOURS": "soon"}, {}, "session_lifetime_hours"),
    ({"TOOL_SESSION_LIFETIME_HOURS": "0"}, {}, "session_lifetime_hours"),
    ({"TOOL_DEV_LOGIN": "perhaps"}, {}, "dev_login"),
    ({}, {"no_such_key": 1}, "no_such_key"),
])
def test_bad_values_name_the_key(environ, overrides, key):
    with pytest.raises(ConfigError, match=key):
        load_config(environ=environ, overrides=overrides)


def test_unknown_key_in_config_file_is_refused(tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text("secret_kee: typo\n")
    os.chmod(config_file, 0o600)
    with pytest.raises(ConfigError, match="secret_kee"):
        load_config(environ={}, config_file=config_file)


def test_unknown_tool_envvars_are_ignored():
    # Toolforge sets envvars of its own, such as TOOL_DATA_DIR.
    load_config(environ={"TOOL_SOMETHING_ELSE": "x"})


@pytest.mark.parametrize("environ, files, expected", [
    ({}, [], False),
    ({"TOOL_DATA_DIR": "/data/project/reports"}, [], True),
    ({"TOOL_TOOLSDB_USER": "s51234"}, [], True),
    ({"HOME": "/data/project/reports"}, [], True),
    ({}, ["etc/wmcs-project"], True),
])
def test_toolforge_detection(tmp_path, environ, files, expected):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("tools\n")
    assert on_toolforge(environ, root=tmp_path) is expected


def _settings(tmp_path, **extra):
    return {"secret_key": secrets.token_urlsafe(32), "encryption_key": generate_key(),
            "instance_path": str(tmp_path / "instance"), **extra}


def test_dev_login_refused_on_toolforge(tmp_path):
    with pytest.raises(ConfigError, match="dev_login"):
        create_app(overrides=_settings(tmp_path, dev_login=True), environ={"TOOL_DATA_DIR": "/data/project/x"})


def test_dev_login_refused_with_oauth(tmp_path):
    with pytest.raises(ConfigError, match="OAuth"):
        create_app(overrides=_settings(tmp_path, dev_login=True, **{"oauth.consumer_key": "abc"}), environ={})


def test_missing_keys_are_named(tmp_path):
    with pytest.raises(ConfigError, match="TOOL_SECRET_KEY"):
        create_app(overrides={"instance_path": str(tmp_path / "empty")}, environ={})


def test_malformed_encryption_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="TOOL_ENCRYPTION_KEY"):
        create_app(overrides=_settings(tmp_path, encryption_key="short"), environ={})


def test_toolsdb_credentials_build_the_database_url(tmp_path):
    from reporting.components import database_url

    config = load_config(environ={"TOOL_TOOLSDB_USER": "s51234", "TOOL_TOOLSDB_PASSWORD": "p@ss"})
    assert database_url(config, tmp_path) == ("mysql+pymysql://s51234:p%40ss@tools.db.svc.wikimedia.cloud/"
                                    "s51234__reports?charset=utf8mb4")


def test_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for line in readme_table().splitlines()[2:]:
        envvar = line.split("`")[1]
        assert envvar in readme, f"{envvar} is not documented in README.md (python -m reporting config-doc)"
