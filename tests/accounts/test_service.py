"""Account rules, tested directly without HTTP."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from eventmgr.accounts import service
from eventmgr.accounts.models import Role, User, UserSession
from eventmgr.extensions import db
from tests.conftest import DEFAULT_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def new_user(**overrides):
    fields = {
        "email": "ann@example.org",
        "display_name": "Ann",
        "password": DEFAULT_PASSWORD,
    }
    fields.update(overrides)
    return service.create_user(**fields)


class TestCreateUser:
    def test_stores_normalised_email_trimmed_text_and_argon2id_hash(self, db):
        user = new_user(email="  Ann@Example.ORG ", display_name="  Ann  ", organisation=" ISKO ")
        assert user.email == "ann@example.org"
        assert user.display_name == "Ann"
        assert user.organisation == "ISKO"
        assert user.role == Role.MEMBER
        assert user.password_hash.startswith("$argon2id$")
        assert DEFAULT_PASSWORD not in user.password_hash

    def test_refuses_email_taken_in_another_case(self, db):
        new_user(email="ann@example.org")
        with pytest.raises(service.AccountError) as raised:
            new_user(email="ANN@example.org")
        assert raised.value.field == "email"

    def test_turns_a_concurrent_duplicate_into_an_account_error(self, db, monkeypatch):
        new_user(email="ann@example.org")
        db.session.commit()
        # As if another request inserted the same email between the check and the insert.
        monkeypatch.setattr(service, "get_user_by_email", lambda email: None)
        with pytest.raises(service.AccountError) as raised:
            new_user(email="ann@example.org")
        assert raised.value.field == "email"
        assert db.session.query(User).count() == 1  # the session is usable again

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"email": "not-an-email"}, "email"),
            ({"email": "a" * 250 + "@example.org"}, "email"),
            ({"display_name": "   "}, "display_name"),
            ({"display_name": "x" * 101}, "display_name"),
            ({"organisation": "x" * 201}, "organisation"),
            ({"password": "x" * 11}, "password"),
            ({"password": "x" * 129}, "password"),
            ({"role": "superuser"}, "role"),
        ],
    )
    def test_refuses_invalid_values_naming_the_field(self, db, overrides, field):
        with pytest.raises(service.AccountError) as raised:
            new_user(**overrides)
        assert raised.value.field == field
        assert db.session.query(User).count() == 0


class TestAuthenticate:
    def test_accepts_right_password_whatever_the_email_case(self, db):
        user = new_user()
        assert service.authenticate("ANN@example.org ", DEFAULT_PASSWORD) is user

    @pytest.mark.parametrize(
        ("email", "password"),
        [
            ("ann@example.org", "the wrong password"),
            ("nobody@example.org", DEFAULT_PASSWORD),
            ("ann@example.org", DEFAULT_PASSWORD + "x" * 200),
        ],
    )
    def test_refuses_wrong_credentials(self, db, email, password):
        new_user()
        assert service.authenticate(email, password) is None

    def test_refuses_inactive_user(self, db):
        user = new_user()
        user.active = False
        assert service.authenticate("ann@example.org", DEFAULT_PASSWORD) is None

    def test_rehashes_with_new_parameters(self, make_app):
        cheap, dearer = make_app(), make_app(ARGON2_TIME_COST=2)
        with cheap.app_context():
            new_user()
            db.session.commit()
        with dearer.app_context():
            user = service.authenticate("ann@example.org", DEFAULT_PASSWORD)
            assert ",t=2," in user.password_hash
            assert service.authenticate("ann@example.org", DEFAULT_PASSWORD) is user


def signed_in(user, **options):
    """`user` with a new device session (committed, as a login view commits it)."""
    service.start_session(user, **options)
    db.session.commit()
    return user


class TestLoadUser:
    def test_loads_by_session_id_and_token(self, db):
        user = signed_in(new_user())
        assert service.load_user(user.get_id()) is user

    @pytest.mark.parametrize(
        "value", ["", "abc", "1", "1:", ":token", "x:token", "1:token", "1::5", "99999999999:t:5"]
    )
    def test_ignores_malformed_values(self, db, value):
        signed_in(new_user())
        assert service.load_user(value) is None

    def test_ignores_wrong_token(self, db):
        user = signed_in(new_user())
        identifier = service.parse_session_identifier(user.get_id())
        forged = f"{identifier.session_id}:wrong-token:{int(identifier.login_at.timestamp())}"
        assert service.load_user(forged) is None

    def test_ignores_inactive_user(self, db):
        user = signed_in(new_user())
        user.active = False
        assert service.load_user(user.get_id()) is None

    def test_keeps_only_a_hash_of_the_token(self, db):
        user = signed_in(new_user())
        identifier = service.parse_session_identifier(user.get_id())
        stored = db.session.get(UserSession, identifier.session_id)
        assert identifier.token not in stored.token_hash
        assert stored.token_hash == hashlib.sha256(identifier.token.encode()).hexdigest()

    def test_records_last_seen_at_most_every_few_minutes(self, db):
        user = signed_in(new_user())
        identifier = user.get_id()
        user_session = user.current_session
        seen = user_session.last_seen_at
        soon = seen + service.LAST_SEEN_INTERVAL - timedelta(seconds=1)
        assert service.load_user(identifier, now=soon) is user
        db.session.expire_all()
        assert db.session.get(UserSession, user_session.id).last_seen_at == seen
        later = seen + service.LAST_SEEN_INTERVAL
        assert service.load_user(identifier, now=later) is user
        db.session.expire_all()
        assert db.session.get(UserSession, user_session.id).last_seen_at == later


class TestSessionLifetimes:
    def test_idle_session_expires_unless_remembered(self, db, app):
        user = signed_in(new_user())
        remembered = signed_in(new_user(email="bob@example.org"), remember=True)
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]) + service.LAST_SEEN_INTERVAL
        later = user.current_session.last_seen_at + idle + timedelta(seconds=1)
        assert service.load_user(user.get_id(), now=later) is None
        assert service.load_user(remembered.get_id(), now=later) is remembered

    def test_absolute_limit_applies_to_remembered_sessions(self, db, app):
        user = signed_in(new_user(), remember=True)
        limit = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
        assert service.session_expired(
            user.current_session, now=user.current_session.created_at + limit + timedelta(seconds=1)
        )

    def test_prune_deletes_only_expired_sessions(self, db, app):
        ann = signed_in(new_user())
        stale = ann.current_session
        active = signed_in(ann).current_session
        remembered = signed_in(ann, remember=True).current_session
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]) + service.LAST_SEEN_INTERVAL
        stale.last_seen_at -= idle + timedelta(minutes=1)
        remembered.last_seen_at -= idle + timedelta(minutes=1)
        db.session.commit()
        assert service.prune_expired_sessions() == 1
        db.session.commit()
        assert {s.id for s in service.list_sessions(ann)} == {active.id, remembered.id}

    def test_starting_a_session_prunes_that_users_expired_ones(self, db, app):
        ann = signed_in(new_user())
        bob = signed_in(new_user(email="bob@example.org"))
        absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1)
        ann.current_session.created_at -= absolute
        bob.current_session.created_at -= absolute
        db.session.commit()
        signed_in(ann)
        assert len(service.list_sessions(ann)) == 1
        assert len(service.list_sessions(bob)) == 1  # pruned by `flask users prune-sessions`


class TestEndingSessions:
    def test_end_all_sessions_can_keep_one(self, db):
        user = signed_in(new_user())
        keep = user.current_session
        signed_in(user)
        signed_in(user)
        assert service.end_all_sessions(user, keep=keep) == 2
        assert [s.id for s in service.list_sessions(user)] == [keep.id]

    def test_get_own_session_refuses_another_users_session(self, db):
        ann = signed_in(new_user())
        bob = signed_in(new_user(email="bob@example.org"))
        assert service.get_own_session(ann, ann.current_session.id) is ann.current_session
        assert service.get_own_session(ann, bob.current_session.id) is None

    def test_deactivating_ends_every_session(self, db):
        user = signed_in(new_user())
        identifier = user.get_id()
        service.deactivate_user(user)
        db.session.commit()
        assert service.list_sessions(user) == []
        user.active = True
        assert service.load_user(identifier) is None

    def test_the_only_admin_cannot_be_deactivated(self, db):
        admin = new_user(role="admin")
        with pytest.raises(service.AccountError):
            service.deactivate_user(admin)
        assert admin.active


class TestChangePassword:
    def test_sets_new_password_and_ends_every_session(self, db):
        user = signed_in(new_user())
        old_id = user.get_id()
        service.change_password(user, current_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD)
        db.session.commit()
        assert service.load_user(old_id) is None
        assert service.list_sessions(user) == []
        assert service.authenticate(user.email, NEW_PASSWORD) is user
        assert service.authenticate(user.email, DEFAULT_PASSWORD) is None

    def test_refuses_wrong_current_password(self, db):
        user = signed_in(new_user())
        with pytest.raises(service.AccountError) as raised:
            service.change_password(
                user, current_password="not my password", new_password=NEW_PASSWORD
            )
        assert raised.value.field == "current_password"
        assert service.load_user(user.get_id()) is user

    def test_refuses_too_short_new_password(self, db):
        user = new_user()
        with pytest.raises(service.AccountError) as raised:
            service.change_password(user, current_password=DEFAULT_PASSWORD, new_password="short")
        assert raised.value.field == "new_password"


class TestUpdateProfile:
    def profile(self, **overrides):
        fields = {
            "display_name": "Ann B.",
            "organisation": "ISKO UK",
            "bio": "Taxonomist.",
            "notify_replies": False,
            "notify_event_updates": True,
        }
        fields.update(overrides)
        return fields

    def test_saves_trimmed_values_and_preferences(self, db):
        user = new_user()
        service.update_profile(user, **self.profile(display_name="  Ann B. ", bio=" Hi \n"))
        assert (user.display_name, user.organisation, user.bio) == ("Ann B.", "ISKO UK", "Hi")
        assert user.notify_replies is False
        assert user.notify_event_updates is True

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"display_name": " \t "}, "display_name"),
            ({"display_name": "x" * 101}, "display_name"),
            ({"organisation": "x" * 201}, "organisation"),
            ({"bio": "x" * 2001}, "bio"),
        ],
    )
    def test_refuses_invalid_values(self, db, overrides, field):
        user = new_user()
        with pytest.raises(service.AccountError) as raised:
            service.update_profile(user, **self.profile(**overrides))
        assert raised.value.field == field
        assert (user.display_name, user.organisation, user.bio) == ("Ann", "", "")


class TestSetRole:
    def test_changes_role(self, db):
        user = new_user()
        service.set_role(user, "organiser")
        assert user.role == Role.ORGANISER
        assert user.is_organiser and not user.is_admin

    def test_refuses_to_demote_the_last_admin(self, db):
        admin = new_user(role="admin")
        with pytest.raises(service.AccountError, match="only admin"):
            service.set_role(admin, Role.MEMBER)
        assert admin.role == Role.ADMIN

    def test_demotes_an_admin_when_another_remains(self, db):
        admin = new_user(role="admin")
        new_user(email="bob@example.org", role="admin")
        service.set_role(admin, Role.MEMBER)
        assert admin.role == Role.MEMBER
        assert service.count_admins() == 1

    def test_inactive_admins_do_not_count(self, db):
        admin = new_user(role="admin")
        dormant = new_user(email="bob@example.org", role="admin")
        dormant.active = False
        with pytest.raises(service.AccountError):
            service.set_role(admin, Role.MEMBER)
        service.set_role(dormant, Role.MEMBER)  # demoting an inactive admin is always fine
        assert dormant.role == Role.MEMBER

    def test_refuses_unknown_role(self, db):
        user = new_user()
        with pytest.raises(service.AccountError):
            service.set_role(user, "owner")


def test_list_users_pages_newest_first(db):
    for number in range(5):
        new_user(email=f"user{number}@example.org")
    first = service.list_users(page=1, per_page=2)
    assert first.total == 5
    assert [user.email for user in first.items] == ["user4@example.org", "user3@example.org"]
    assert [user.email for user in service.list_users(page=3, per_page=2).items] == [
        "user0@example.org"
    ]
    assert service.list_users(page=99, per_page=2).items == []
