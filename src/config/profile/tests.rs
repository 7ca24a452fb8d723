//! Profiles' tests: building and checking, the book's reads and edits,
//! chains, and partial loads against whole ones.

use super::*;
use crate::model::field::Field;
use crate::model::identity::IdentityName;
use crate::model::limits;

mod profiles {
    use super::*;

    fn input(name: &str) -> ProfileInput {
        ProfileInput {
            name: name.into(),
            identity: "work".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_role_profile_is_checked_field_by_field() {
        let mut i = input("deploy");
        i.role_arn = Some("arn:aws:iam::210987654321:role/Deploy".into());
        i.external_id = Some("ext-123".into());
        i.duration = Some("2h".into());
        i.region = Some("eu-west-1".into());
        let p = Profile::from_input(&i).unwrap();
        assert_eq!(p.role.as_ref().unwrap().account, "210987654321");
        assert_eq!(p.role_secs(), 7200);
        assert_eq!(p.role_session_name(), "keyfob-work");

        type Change = fn(&mut ProfileInput);
        let cases: Vec<(Change, Field)> = vec![
            (|i| i.name = "a=b".into(), Field::ProfileName),
            (|i| i.name = "x\n[default]".into(), Field::ProfileName),
            (|i| i.identity = "".into(), Field::IdentityName),
            (
                |i| i.role_arn = Some("arn:aws:iam::1:role/x".into()),
                Field::RoleArn,
            ),
            (|i| i.external_id = Some("x".into()), Field::ExternalId),
            (|i| i.external_id = Some("a b".into()), Field::ExternalId),
            (
                |i| i.role_session_name = Some("a/b".into()),
                Field::RoleSessionName,
            ),
            (
                |i| i.source_identity = Some("x".into()),
                Field::SourceIdentity,
            ),
            (|i| i.mfa_serial = Some("short".into()), Field::MfaSerial),
            (|i| i.duration = Some("13h".into()), Field::Duration),
            (|i| i.duration = Some("10m".into()), Field::Duration),
            (|i| i.region = Some("mars".into()), Field::Region),
        ];
        for (change, field) in cases {
            let mut bad = i.clone();
            change(&mut bad);
            assert_eq!(Profile::from_input(&bad).unwrap_err().field, field);
        }
    }

    #[test]
    fn session_fields_need_a_role_and_durations_follow_the_kind() {
        let mut i = input("plain");
        i.external_id = Some("ext-123".into());
        assert_eq!(
            Profile::from_input(&i).unwrap_err().field,
            Field::ExternalId
        );
        let mut i = input("plain");
        i.duration = Some("36h".into());
        assert_eq!(Profile::from_input(&i).unwrap().session_secs(), 36 * 3600);
        i.duration = Some("37h".into());
        assert!(Profile::from_input(&i).is_err());
    }

    #[test]
    fn profiles_of_one_identity_and_mfa_share_the_identity_session() {
        let mut a = input("a");
        a.role_arn = Some("arn:aws:iam::210987654321:role/A".into());
        let mut b = input("b");
        b.role_arn = Some("arn:aws:iam::210987654321:role/B".into());
        let (a, b) = (
            Profile::from_input(&a).unwrap(),
            Profile::from_input(&b).unwrap(),
        );
        assert_eq!(a.identity_session_key(), b.identity_session_key());
        assert_ne!(a.session_key(), b.session_key());
        let mut c = input("c");
        c.mfa_serial = Some("arn:aws:iam::123456789012:mfa/work".into());
        assert_ne!(
            Profile::from_input(&c).unwrap().identity_session_key(),
            a.identity_session_key()
        );
    }

    #[test]
    fn the_book_round_trips_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "# my settings\n[settings]\nstore = \"auto\" # keep me\n",
        )
        .unwrap();
        let mut book = ProfileBook::load(&path).unwrap();
        let mut i = input("deploy");
        i.role_arn = Some("arn:aws:iam::210987654321:role/Deploy".into());
        i.duration = Some("1h".into());
        let p = Profile::from_input(&i).unwrap();
        book.put(&p, false).unwrap();
        assert!(matches!(
            book.put(&p, false),
            Err(ProfileError::Exists { .. })
        ));
        book.save().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# my settings\n[settings]\nstore = \"auto\" # keep me\n"),
            "{text}"
        );
        let book = ProfileBook::load(&path).unwrap();
        assert_eq!(book.get("deploy").unwrap(), p);
        assert_eq!(book.names(), ["deploy"]);

        let mut book = book;
        book.rename_identity("work", "prod");
        assert_eq!(book.get("deploy").unwrap().identity.as_str(), "prod");
        book.remove("deploy").unwrap();
        assert!(book.list().unwrap().is_empty());
    }

    #[test]
    fn an_aws_sign_in_profile_round_trips_has_its_own_session_and_takes_no_role() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut book = ProfileBook::load(&path).unwrap();
        let mut p = Profile::plain(&crate::model::identity::IdentityName::parse("alice").unwrap());
        p.login = Some("arn:aws:iam::111122223333:user/alice".into());
        book.put(&p, false).unwrap();
        book.save().unwrap();
        let got = ProfileBook::load(&path).unwrap().get("alice").unwrap();
        assert_eq!(got, p);
        // Its own cache key and fingerprint: never an access key's session.
        assert_eq!(got.session_key(), "login.alice");
        let plain = Profile::plain(&got.identity);
        assert_ne!(got.fingerprint(), plain.fingerprint());
        for bad in [
            "[profiles.x]\nidentity = \"alice\"\nlogin_session = \"arn:aws:iam::1:user/a\"\nrole_arn = \"arn:aws:iam::210987654321:role/R\"\n",
            "[profiles.x]\nidentity = \"alice\"\nlogin_session = \"alice\"\n",
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = ProfileBook::load(&path).unwrap().get("x").unwrap_err();
            assert!(err.to_string().contains("login_session"), "{err}");
        }
    }

    #[test]
    fn a_hand_edited_mistake_names_the_profile_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[profiles.bad]\nidentity = \"work\"\nregion = \"nowhere\"\n",
        )
        .unwrap();
        let err = ProfileBook::load(&path).unwrap().get("bad").unwrap_err();
        assert!(
            err.to_string().contains("profile bad: region: must be"),
            "{err}"
        );
    }

    #[test]
    fn the_guard_verdict_round_trips_and_a_hand_edited_one_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut book = ProfileBook::load(&path).unwrap();
        let mut i = input("vendor");
        i.role_arn = Some("arn:aws:iam::210987654321:role/Vendor".into());
        i.external_id = Some("ext-123".into());
        let mut p = Profile::from_input(&i).unwrap();
        p.role.as_mut().unwrap().external_id_guard = Some(ExternalIdGuard::Unguarded);
        let fingerprint = p.fingerprint();
        book.put(&p, false).unwrap();
        book.save().unwrap();
        let mut book = ProfileBook::load(&path).unwrap();
        assert_eq!(book.get("vendor").unwrap(), p);
        book.set_guard("vendor", ExternalIdGuard::Guarded).unwrap();
        let got = book.get("vendor").unwrap();
        assert_eq!(
            got.role.as_ref().unwrap().external_id_guard,
            Some(ExternalIdGuard::Guarded)
        );
        // A re-check does not invalidate the cached session.
        assert_eq!(got.fingerprint(), fingerprint);

        for (line, needle) in [
            (
                "external_id_guard = \"maybe\"",
                "external_id_guard must be \"guarded\" or \"unguarded\"",
            ),
            (
                "external_id_guard = true",
                "external_id_guard must be \"guarded\" or \"unguarded\"",
            ),
        ] {
            std::fs::write(
                &path,
                format!("[profiles.v]\nidentity = \"work\"\nrole_arn = \"arn:aws:iam::210987654321:role/V\"\nexternal_id = \"ext-123\"\n{line}\n"),
            )
            .unwrap();
            let err = ProfileBook::load(&path).unwrap().get("v").unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        std::fs::write(
            &path,
            "[profiles.v]\nidentity = \"work\"\nrole_arn = \"arn:aws:iam::210987654321:role/V\"\nexternal_id_guard = \"guarded\"\n",
        )
        .unwrap();
        let err = ProfileBook::load(&path).unwrap().get("v").unwrap_err();
        assert!(
            err.to_string().contains("no role with an external ID"),
            "{err}"
        );
    }

    fn book_in(dir: &tempfile::TempDir) -> ProfileBook {
        ProfileBook::load(&dir.path().join("config.toml")).unwrap()
    }

    fn role_input(name: &str, source: Option<&str>, role: &str) -> ProfileInput {
        let mut i = input(name);
        if let Some(src) = source {
            i.identity = String::new();
            i.source_profile = Some(src.into());
        }
        i.role_arn = Some(format!("arn:aws:iam::210987654321:role/{role}"));
        i
    }

    #[test]
    fn a_chain_resolves_its_identity_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = book_in(&dir);
        let mut hub = role_input("hub", None, "Hub");
        hub.mfa_serial = Some("arn:aws:iam::123456789012:mfa/alice".into());
        hub.external_id = Some("hub-ext".into());
        hub.tags = vec![("Project".into(), "blue".into())];
        hub.transitive_tags = vec!["Project".into()];
        let hub = book.build(&hub).unwrap();
        book.put(&hub, false).unwrap();
        let mut target = role_input("target", Some("hub"), "Target");
        target.external_id = Some("target-ext".into());
        target.policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
        let target = book.build(&target).unwrap();
        assert_eq!(target.identity.as_str(), "work");
        assert_eq!(
            target.mfa_serial, hub.mfa_serial,
            "the identity session is the hub's"
        );
        assert_eq!(target.identity_session_key(), hub.identity_session_key());
        assert!(target.is_role_chained());
        assert_eq!(target.chain_roles(), 2);
        assert_eq!(target.role_secs(), 3600);
        book.put(&target, false).unwrap();
        book.save().unwrap();

        let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
        assert!(text.contains("source_profile = \"hub\""), "{text}");
        assert!(!text.contains("[profiles.target]\nidentity"), "{text}");
        assert!(text.contains("tags = { Project = \"blue\" }"), "{text}");
        let again = book_in(&dir);
        assert_eq!(again.get("target").unwrap(), target);
        assert_eq!(again.get("hub").unwrap(), hub);
        let names: Vec<&str> = target.chain().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["hub", "target"]);

        // Editing the hub changes the chained session's fingerprint.
        let mut edited = role_input("hub", None, "Hub2");
        edited.mfa_serial = hub.mfa_serial.clone();
        book.put(&book.build(&edited).unwrap(), true).unwrap();
        assert_ne!(
            book.get("target").unwrap().fingerprint(),
            target.fingerprint()
        );
    }

    #[test]
    fn chains_refuse_loops_long_hops_and_more_than_an_hour() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = book_in(&dir);
        let field = |e: ProfileError| match e {
            ProfileError::Field { source, .. } | ProfileError::Invalid { source, .. } => source,
            other => panic!("not a field error: {other}"),
        };
        let e = field(
            book.build(&role_input("a", Some("nobody"), "A"))
                .unwrap_err(),
        );
        assert_eq!(e.field, Field::SourceProfile);
        assert!(e.reason.contains("no profile named nobody"), "{e}");

        book.put(&book.build(&role_input("r1", None, "R1")).unwrap(), false)
            .unwrap();
        for i in 2..=limits::MAX_CHAIN_ROLES {
            let p = book
                .build(&role_input(
                    &format!("r{i}"),
                    Some(&format!("r{}", i - 1)),
                    "R",
                ))
                .unwrap();
            book.put(&p, false).unwrap();
        }
        let last = format!("r{}", limits::MAX_CHAIN_ROLES);
        let e = field(
            book.build(&role_input("too-long", Some(&last), "X"))
                .unwrap_err(),
        );
        assert_eq!(e.field, Field::SourceProfile);
        assert!(e.reason.contains("at most 5 roles"), "{e}");

        let mut long = role_input("long", Some("r1"), "L");
        long.duration = Some("2h".into());
        let e = field(book.build(&long).unwrap_err());
        assert_eq!(e.field, Field::Duration);
        assert!(
            e.reason.contains("role chaining") && e.reason.contains("3600"),
            "{e}"
        );
        // From an identity's plain profile it is not role chaining.
        book.put(
            &Profile::plain(&IdentityName::parse("work").unwrap()),
            false,
        )
        .unwrap();
        let mut from_plain = role_input("from-plain", Some("work"), "P");
        from_plain.duration = Some("2h".into());
        assert_eq!(book.build(&from_plain).unwrap().role_secs(), 7200);

        // r1 chained from r2 would loop: r1 → r2 → r1; refused when checked.
        let looped = book.build(&role_input("r1", Some("r2"), "R1"));
        let e = field(looped.unwrap_err());
        assert!(e.reason.contains("loops"), "{e}");
        // A loop written by hand is named when the file is read.
        book.save().unwrap();
        let path = dir.path().join("config.toml");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "[profiles.r1]\nidentity = \"work\"",
            "[profiles.r1]\nsource_profile = \"r3\"",
        );
        std::fs::write(&path, text).unwrap();
        let e = book_in(&dir).get("r3").unwrap_err();
        assert!(e.to_string().contains("the chain loops"), "{e}");

        let mut mfa = role_input("mfa", Some("r1"), "M");
        mfa.mfa_serial = Some("arn:aws:iam::123456789012:mfa/bob".into());
        assert_eq!(field(book.build(&mfa).unwrap_err()).field, Field::MfaSerial);
    }

    #[test]
    fn a_transitive_tag_may_not_be_set_again_down_the_chain_and_sources_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = book_in(&dir);
        let mut hub = role_input("hub", None, "Hub");
        hub.tags = vec![("Project".into(), "blue".into())];
        hub.transitive_tags = vec!["Project".into()];
        book.put(&book.build(&hub).unwrap(), false).unwrap();
        let mut next = role_input("next", Some("hub"), "Next");
        next.tags = vec![("project".into(), "red".into())];
        let e = book.build(&next).unwrap_err();
        assert!(e.to_string().contains("transitive tag of hub"), "{e}");
        next.tags = vec![("Team".into(), "red".into())];
        book.put(&book.build(&next).unwrap(), false).unwrap();
        let e = book.remove("hub").unwrap_err();
        assert!(matches!(e, ProfileError::InUse { .. }), "{e}");
        assert!(e.to_string().contains("source_profile of next"), "{e}");
        book.remove("next").unwrap();
        book.remove("hub").unwrap();
    }

    #[test]
    fn tags_need_a_role() {
        let mut i = input("plain");
        i.tags = vec![("Project".into(), "blue".into())];
        assert_eq!(Profile::from_input(&i).unwrap_err().field, Field::Tags);
        let mut i = input("plain");
        i.policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
        assert_eq!(
            Profile::from_input(&i).unwrap_err().field,
            Field::PolicyArns
        );
    }
}

mod partial_load {
    //! `ProfileBook::load_for` reads a few tables of the file; whatever the
    //! file, what it gives for a profile is what the whole file gives.

    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 5] = ["work", "hub", "mid", "my.prod", "p-4"];

    fn quoted(name: &str) -> String {
        if name.contains('.') {
            format!("\"{name}\"")
        } else {
            name.to_owned()
        }
    }

    /// One profile's tables, in one of the shapes TOML allows.
    fn profile_text(name: &str, source: Option<&str>, shape: u8, tag: &str) -> String {
        let key = quoted(name);
        let origin = match source {
            Some(s) => format!(
                "source_profile = \"{s}\"\nrole_arn = \"arn:aws:iam::111122223333:role/R-{}\"\n",
                name.replace('.', "")
            ),
            None => "identity = \"work\"\n".to_owned(),
        };
        match shape % 4 {
            0 => format!("[profiles.{key}]\n{origin}region = \"eu-west-1\" # [not] a header\n"),
            1 => format!(
                "[profiles.{key}]\n{origin}policy_arns = [\n  \"arn:aws:iam::aws:policy/[x]\", # ]\n]\n[profiles.{key}.tags]\nteam = \"{tag}\"\n"
            ),
            2 => format!("[ profiles . {key} ]\n{origin}tags = {{ team = '{tag}' }}\n"),
            _ => format!("[profiles.{key}]\n{origin}duration = \"1h\"\n"),
        }
    }

    fn file() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(
                (0..NAMES.len(), proptest::option::of(0..NAMES.len()), 0u8..4),
                0..8,
            ),
            any::<bool>(),
            any::<bool>(),
            "[a-z\\[\\]{} ]{0,6}",
        )
            .prop_map(|(profiles, settings, accounts, tag)| {
                let mut text = String::from("# keyfob [profiles.fake]\n");
                if settings {
                    text.push_str("[settings]\nsession_duration = \"4h\"\n");
                }
                let mut seen = Vec::new();
                for (i, (name, source, shape)) in profiles.into_iter().enumerate() {
                    // One definition each (a duplicate is the test below).
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    let source = source.map(|s| NAMES[s]);
                    text.push_str(&profile_text(NAMES[name], source, shape, &tag));
                    if accounts && i == 1 {
                        text.push_str("[accounts]\n\"111122223333\" = \"prod [eu]\"\n");
                    }
                }
                text
            })
    }

    fn shown(r: Result<Profile, ProfileError>) -> String {
        match r {
            Ok(p) => format!("{p:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    proptest! {
        #[test]
        fn a_profile_read_alone_is_the_profile_of_the_whole_file(text in file()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.toml");
            std::fs::write(&path, &text).unwrap();
            let whole = ProfileBook::load(&path);
            let settings = ProfileBook::load_for(&path, None);
            let whole = whole.unwrap();
            prop_assert_eq!(whole.settings_text(), settings.unwrap().settings_text());
            for name in NAMES.iter().chain(&["missing"]) {
                let alone = ProfileBook::load_for(&path, Some(name)).unwrap();
                prop_assert_eq!(shown(alone.get(name)), shown(whole.get(name)), "profile {} of\n{}", name, text);
            }
        }
    }

    /// A file broken in one profile's table: that profile is refused with
    /// the whole file's error; another, whole, is still read.
    #[test]
    fn a_break_is_reported_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = "[profiles.work]\nidentity = \"work\"\n[profiles.hub]\nidentity = \"work\"\n[profiles.hub]\nregion = \"x\"\n";
        std::fs::write(&path, text).unwrap();
        let whole = ProfileBook::load(&path).err().unwrap().to_string();
        assert!(whole.contains("duplicate key"), "{whole}");
        let hub = ProfileBook::load_for(&path, Some("hub"))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(hub, whole);
        let work = ProfileBook::load_for(&path, Some("work")).unwrap();
        assert_eq!(work.get("work").unwrap().identity.as_str(), "work");
        // What the scan cannot follow goes to the whole parse, and its error.
        std::fs::write(&path, "[profiles.work\n").unwrap();
        assert!(
            ProfileBook::load_for(&path, Some("work"))
                .err()
                .unwrap()
                .to_string()
                .contains("not valid TOML")
        );
    }
}
