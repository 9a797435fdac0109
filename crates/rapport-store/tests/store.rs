//! The store's contract, run against SQLite and PostgreSQL alike.

use rapport_core::account::RelationshipStyle;
use rapport_core::contact::RoleLevel;
use rapport_core::money::Money;
use rapport_store::export::export_csv;
use rapport_store::import::{ImportError, ImportOptions, ImportSummary, import_reader};
use rapport_store::{Kind, Store};
use rapport_test_utils::{cases, run_on_both};

#[path = "store/surveys.rs"]
mod surveys;
use surveys::*;

#[path = "store/follow_up.rs"]
mod follow_up;
use follow_up::*;

#[path = "store/assessment.rs"]
mod assessment;
use assessment::*;

fn main() {
    run_on_both(cases![
        importing_the_same_file_twice_changes_nothing,
        a_corrected_file_updates_the_rows,
        an_import_stamps_what_it_writes_and_a_correction_only_what_it_changes,
        a_file_with_fewer_columns_never_blanks_the_others,
        every_bad_row_is_reported_and_nothing_is_stored,
        a_bad_row_after_batches_already_written_leaves_nothing_stored,
        a_write_that_repeats_a_key_it_trusted_is_refused_whole_and_the_store_goes_on,
        an_empty_table_filled_by_a_file_keeps_every_index_whether_the_file_lands_or_not,
        a_missing_required_column_rejects_the_file,
        invalid_utf8_is_named_by_line_and_column,
        a_control_character_is_named_by_line_and_column,
        bom_semicolons_quotes_and_any_script_are_read,
        crm_exports_are_understood_and_unknown_columns_kept,
        dry_run_validates_without_storing,
        a_contact_answering_twice_keeps_both_answers,
        the_comments_of_a_wave_are_each_contacts_latest_answer_that_has_one,
        every_kind_round_trips_through_export,
        formula_cells_are_inert_in_exports_and_restored_on_import,
        reports_read_every_field_of_an_account_as_stored,
        analytics_cells_follow_every_import_and_equal_a_rebuild,
        a_rebuild_corrects_exactly_the_cells_that_differ_from_the_answers,
        answers_for_twenty_thousand_accounts_import_in_one_file,
        cells_of_a_database_from_before_packed_drivers_are_recomputed_when_it_opens,
        driver_sums_per_segment_equal_the_cells_added_up_by_segment,
        the_report_cache_never_serves_stale_figures,
        a_survey_keeps_every_version_a_wave_was_sent_with,
        a_wave_invites_each_selected_contact_once_by_the_right_channel,
        an_answer_counts_at_once_and_a_second_one_replaces_it_keeping_history,
        answers_are_counted_by_difference_and_always_equal_a_rebuild,
        partial_answers_wait_in_the_invitation_until_the_answer,
        an_unsubscribed_contact_stays_out_whatever_a_later_import_says,
        a_delivery_job_is_claimed_once_and_never_run_twice,
        a_bounce_marks_the_invitation_and_stops_its_reminders,
        recent_answers_wait_for_the_rules_and_an_alert_is_raised_once,
        a_contacts_second_answer_in_a_wave_joins_the_follow_up_the_first_opened,
        a_run_of_the_account_rules_larger_than_one_transaction_is_recorded_whole,
        answers_stored_under_the_rules_are_followed_up_at_once,
        an_answer_whose_contact_went_away_meanwhile_is_refused_and_nothing_of_its_batch_is_stored,
        a_webhook_removed_after_the_rules_were_read_gets_no_events,
        quadrant_moves_are_recorded_together_and_a_stale_one_is_left_out,
        outbox_messages_go_to_one_worker_and_return_when_it_dies,
        overdue_tasks_escalate_once_to_the_manager_or_else_the_sponsor,
        plan_items_link_the_accounts_own_answers_and_close_with_an_outcome,
        a_review_meeting_and_its_actions_are_stored_whole_or_not_at_all,
        activity_is_summed_per_month_with_the_last_touch_and_recent_breadth,
        the_definition_keeps_every_version_with_who_when_and_why,
        an_idempotency_key_is_held_while_its_call_runs_and_then_replays,
    ]);
}

async fn import(store: &Store, kind: Kind, csv: &str) -> Result<ImportSummary, ImportError> {
    import_reader(store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {}).await
}

async fn export(store: &Store, kind: Kind) -> String {
    let mut out = Vec::new();
    export_csv(store, kind, &mut out).await.expect("export");
    String::from_utf8(out).expect("exports are UTF-8")
}

fn errors(result: Result<ImportSummary, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Rows { errors, .. }) => errors.iter().map(ToString::to_string).collect(),
        Err(ImportError::Header { problems }) => problems,
        other => panic!("expected the file to be rejected, got {other:?}"),
    }
}

const ACCOUNTS: &str = "\
account_id,name,vertical,region,owner_email,billed_revenue,potential_revenue,cost_of_sales,payment_days,relationship_style,strategic
A1,Northwind Logistics,Logistics,EMEA,ana@rapport.example,1250000.50,300000,900000,45,relationship,true
A2,Helix Biomedical,Healthcare,North America,bo@rapport.example,80000,120000,50000,30,transaction,false
A3,Granite Peak Energy,,,,,,,,,
";

const CONTACTS: &str = "\
contact_id,account_id,name,title,role,email,phone
C1,A1,Ana Ruiz,CFO,executive,ana.ruiz@northwind.example,+44 20 7946 0000
C2,A1,Tom Lee,Procurement Manager,manager,tom.lee@northwind.example,
C3,A2,Mia Chen,Lab Director,user,mia.chen@helix.example,
";

async fn importing_the_same_file_twice_changes_nothing(store: Store) {
    let first = import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    assert_eq!((first.counts.rows, first.counts.inserted, first.counts.updated), (3, 3, 0));
    let before = export(&store, Kind::Accounts).await;
    let second = import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    assert_eq!((second.counts.inserted, second.counts.updated, second.counts.unchanged), (0, 0, 3));
    assert_eq!(export(&store, Kind::Accounts).await, before);
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), 3);
}

async fn a_corrected_file_updates_the_rows(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    let corrected = ACCOUNTS.replace("Helix Biomedical,Healthcare", "Helix Biomedical AG,Life Sciences");
    let summary = import(&store, Kind::Accounts, &corrected).await.unwrap();
    assert_eq!((summary.counts.inserted, summary.counts.updated, summary.counts.unchanged), (0, 1, 2));
    let out = export(&store, Kind::Accounts).await;
    assert!(out.contains("A2,Helix Biomedical AG,Life Sciences,North America"), "{out}");
}

/// Each account's (external_id, created_at, updated_at), the times as the database shows them.
async fn account_stamps(store: &Store) -> Vec<(String, String, String)> {
    let sql =
        "SELECT external_id, CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM accounts ORDER BY external_id";
    match store {
        Store::Sqlite(db) => sqlx::query_as(sql).fetch_all(db.readers()).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    }
}

async fn an_import_stamps_what_it_writes_and_a_correction_only_what_it_changes(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    let first = account_stamps(&store).await;
    let stamp = &first[0].1;
    assert!(first.iter().all(|(_, created, updated)| created == stamp && updated == stamp), "{first:?}");
    if let Store::Sqlite(_) = store {
        // As the columns' default writes it, so that stamps compare as text.
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        time::PrimitiveDateTime::parse(stamp, format).unwrap_or_else(|e| panic!("{stamp}: {e}"));
    }

    std::thread::sleep(std::time::Duration::from_millis(5));
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    assert_eq!(account_stamps(&store).await, first, "the same file again touches nothing");

    std::thread::sleep(std::time::Duration::from_millis(5));
    import(&store, Kind::Accounts, &ACCOUNTS.replace("Helix Biomedical,", "Helix Biomedical AG,")).await.unwrap();
    let corrected = account_stamps(&store).await;
    assert_eq!((&corrected[0], &corrected[2]), (&first[0], &first[2]), "the rows left as they were");
    let (_, created, updated) = &corrected[1];
    assert_eq!(created, stamp, "created once");
    assert!(updated > stamp, "the corrected row's updated_at moves on: {updated} after {stamp}");
}

async fn a_file_with_fewer_columns_never_blanks_the_others(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    let summary = import(&store, Kind::Accounts, "account_id,name,billed_revenue\nA1,Northwind Logistics,1300000\n")
        .await
        .unwrap();
    assert_eq!(summary.counts.updated, 1);
    let out = export(&store, Kind::Accounts).await;
    assert!(
        out.contains("A1,Northwind Logistics,Logistics,EMEA,ana@rapport.example,1300000.00,300000.00,900000.00,45,relationship,true"),
        "{out}"
    );
}

async fn every_bad_row_is_reported_and_nothing_is_stored(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    let bad = "\
contact_id,account_id,name,title,role,email,phone
C1,A1,Ana Ruiz,CFO,executive,ana.ruiz@northwind.example,
C2,NOPE,Tom Lee,,manager,tom@northwind.example,
C3,A2,Mia Chen,,boss,mia.chen@helix.example,
C4,A2,Raj Patel,,user,raj.patel(at)helix.example,
C1,A1,Ana Again,,,,
C5,A2,,,,,
";
    let errs = errors(import(&store, Kind::Contacts, bad).await);
    let expect = [
        "line 3, column 'account_id', value \"NOPE\": no account has this account_id",
        "line 4, column 'role', value \"boss\": expected one of: executive, manager, user",
        "line 5, column 'email', value \"raj.patel(at)helix.example\"",
        "line 6: the contact_id 'C1' appears more than once",
        "line 7, column 'name': 'name' is required",
    ];
    for e in expect {
        assert!(errs.iter().any(|x| x.starts_with(e)), "missing {e:?} in {errs:#?}");
    }
    assert_eq!(errs.len(), expect.len(), "{errs:#?}");
    assert_eq!(store.count(Kind::Contacts).await.unwrap(), 0, "nothing of a bad file is stored");

    let numbers = "account_id,period,billed,booked\nA1,2026-13,100,\nA1,2026-Q1,1.234,\nA2,2026-Q1,12e3,5\n";
    let errs = errors(import(&store, Kind::Revenue, numbers).await);
    assert!(errs[0].starts_with("line 2, column 'period', value \"2026-13\""), "{errs:?}");
    assert!(errs[1].starts_with("line 3, column 'billed', value \"1.234\""), "{errs:?}");
    assert!(errs[2].starts_with("line 4, column 'billed', value \"12e3\""), "{errs:?}");

    // Lines ended as on Windows are counted the same, a quoted line break included.
    let windows = "account_id,period,billed,booked\r\nA1,2026-Q1,100,\r\nA1,\"2026-Q2\r\n\",x,\r\nA2,2026-13,1,\r\n";
    let errs = errors(import(&store, Kind::Revenue, windows).await);
    assert!(errs[0].starts_with("line 3, column 'billed', value \"x\""), "{errs:?}");
    assert!(errs[1].starts_with("line 5, column 'period', value \"2026-13\""), "{errs:?}");

    // And as by Excel for Mac ("CSV (Macintosh)"): each line ended by a lone carriage return.
    let mac = "account_id,period,billed,booked\rA1,2026-Q1,100,\rA1,2026-Q2,x,\rA2,2026-13,1,\r";
    let errs = errors(import(&store, Kind::Revenue, mac).await);
    assert!(errs[0].starts_with("line 3, column 'billed', value \"x\""), "{errs:?}");
    assert!(errs[1].starts_with("line 4, column 'period', value \"2026-13\""), "{errs:?}");

    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,comment,brand\nC1,2026-Q1,2026-02-30,9,,4\nC2,2026-Q1,,11,,\nC3,2026-Q1,,7,,six\n";
    let errs = errors(import(&store, Kind::Responses, answers).await);
    assert!(errs.iter().any(|e| e.starts_with("line 2, column 'submitted_at', value \"2026-02-30\"")), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("line 3, column 'ltr', value \"11\"")), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("line 4, column 'brand', value \"six\"")), "{errs:?}");
    assert_eq!(store.count(Kind::Responses).await.unwrap(), 0);
}

async fn a_bad_row_after_batches_already_written_leaves_nothing_stored(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    // More rows than three of the writer's batches, the bad one in the last.
    const N: usize = 16_000;
    let mut good = String::from("contact_id,account_id,name,role\n");
    for i in 0..N {
        good.push_str(&format!("C{i},A{},Contact {i},user\n", 1 + i % 3));
    }
    let bad = good.replace("C15000,A1,", "C15000,NOPE,");
    let errs = errors(import(&store, Kind::Contacts, &bad).await);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].starts_with("line 15002, column 'account_id', value \"NOPE\""), "{errs:?}");
    assert_eq!(store.count(Kind::Contacts).await.unwrap(), 0, "the batches written before the bad row are undone");

    let first = import(&store, Kind::Contacts, &good).await.unwrap();
    assert_eq!((first.counts.inserted, first.counts.updated), (N as u64, 0));
    let again = import(&store, Kind::Contacts, &good).await.unwrap();
    assert_eq!((again.counts.inserted, again.counts.updated, again.counts.unchanged), (0, 0, N as u64));
    let out = export(&store, Kind::Contacts).await;
    assert!(out.contains("\nC15999,A1,Contact 15999,,user,,,,false\n"), "{}", &out[..200]);
}

/// The indexes of a table, each with its definition.
async fn indexes(store: &Store, table: &str) -> Vec<(String, String)> {
    match store {
        Store::Sqlite(db) => sqlx::query_as(
            "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 ORDER BY name",
        )
        .bind(table)
        .fetch_all(db.readers())
        .await
        .unwrap(),
        Store::Postgres(pool) => {
            sqlx::query_as("SELECT indexname::text, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname")
                .bind(table)
                .fetch_all(pool)
                .await
                .unwrap()
        }
    }
}

/// On SQLite a table filled from empty has its plain indexes built once at the end rather
/// than row by row (`Writer::set_indexes_aside`): whatever becomes of the file, they are all
/// there afterwards, hold every row, and serve queries.
async fn an_empty_table_filled_by_a_file_keeps_every_index_whether_the_file_lands_or_not(store: Store) {
    let (accounts, contacts) = (indexes(&store, "accounts").await, indexes(&store, "contacts").await);
    assert!(contacts.iter().any(|(name, _)| name == "contacts_account"), "{contacts:?}");
    let unchanged = |store: &Store, when: &'static str| {
        let (accounts, contacts) = (accounts.clone(), contacts.clone());
        let store = store.clone();
        async move {
            assert_eq!(indexes(&store, "accounts").await, accounts, "the accounts' indexes {when}");
            assert_eq!(indexes(&store, "contacts").await, contacts, "the contacts' indexes {when}");
        }
    };
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    unchanged(&store, "after the accounts landed").await;

    const N: usize = 12_000;
    let mut good = String::from("contact_id,account_id,name,role\n");
    for i in 0..N {
        good.push_str(&format!("C{i},A{},Contact {i},user\n", 1 + i % 3));
    }
    let bad = good.replace("C11001,A1,", "C11001,NOPE,");
    assert_eq!(errors(import(&store, Kind::Contacts, &bad).await).len(), 1);
    unchanged(&store, "after a file refused after two batches were written").await;
    let options = ImportOptions { dry_run: true, ..ImportOptions::default() };
    import_reader(&store, Kind::Contacts, good.as_bytes(), options, &mut |_| {}).await.unwrap();
    unchanged(&store, "after a dry run").await;
    import(&store, Kind::Contacts, &good).await.unwrap();
    unchanged(&store, "after the contacts landed").await;

    if let Store::Sqlite(db) = &store {
        let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(db.readers()).await.unwrap();
        assert_eq!(check, ["ok"], "every index holds exactly the table's rows");
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as("EXPLAIN QUERY PLAN SELECT name FROM contacts WHERE account_id = 2")
                .fetch_all(db.readers())
                .await
                .unwrap();
        assert!(plan.iter().any(|(.., detail)| detail.contains("contacts_account")), "{plan:?}");
    }
    let sql = "SELECT COUNT(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.external_id = 'A2'";
    let by_account: i64 = match &store {
        Store::Sqlite(db) => sqlx::query_scalar(sql).fetch_one(db.readers()).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    };
    assert_eq!(by_account, (N / 3) as i64);
}

/// The demo's writer trusts its keys to be unique and does not check them; should one repeat
/// all the same (into an empty table, where rows are plain inserts), the database refuses it,
/// nothing of the write is kept, and the next write goes through as usual.
async fn a_write_that_repeats_a_key_it_trusted_is_refused_whole_and_the_store_goes_on(store: Store) {
    use rapport_core::account::Account;
    use rapport_store::record::Record;
    use rapport_store::writer::Writer;
    let account = |id: &str, name: &str| {
        Record::Account(Account { account_id: id.into(), name: name.into(), ..Account::default() })
    };
    let mut writer = Writer::begin(&store, 10).await.unwrap();
    writer.trust_unique_keys();
    let mut outcome = Ok(());
    for (i, record) in
        [account("A1", "Northwind"), account("A2", "Helix"), account("A1", "Northwind again")].into_iter().enumerate()
    {
        outcome = outcome.and(writer.push(i as u64 + 2, record).await);
    }
    let refused = match outcome {
        Ok(()) => writer.finish(true).await.map(|_| ()),
        Err(e) => Err(e),
    };
    refused.expect_err("a repeated key is refused");
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), 0, "nothing of the write is kept");

    let summary = import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    assert_eq!(summary.counts.inserted, 3);
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), 3);
}

async fn a_missing_required_column_rejects_the_file(store: Store) {
    let errs = errors(import(&store, Kind::Contacts, "contact_id,name\nC1,Ana\n").await);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("required column 'account_id'"), "{errs:?}");
    assert_eq!(store.count(Kind::Contacts).await.unwrap(), 0);
}

async fn invalid_utf8_is_named_by_line_and_column(store: Store) {
    let mut bytes = b"account_id,name\nA1,Good\nA2,Bad ".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b" Name\n");
    let result = import_reader(&store, Kind::Accounts, bytes.as_slice(), ImportOptions::default(), &mut |_| {}).await;
    let errs = errors(result);
    assert!(errs[0].starts_with("line 3, column 'name'"), "{errs:?}");
    assert!(errs[0].contains("not valid UTF-8"), "{errs:?}");
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), 0);
}

async fn a_control_character_is_named_by_line_and_column(store: Store) {
    // A NUL that PostgreSQL could not store, and a character that would break an SVG export;
    // a tab and a line break in a quoted comment are text.
    let file = "account_id,name,vertical\nA1,\"Good\tName\nTwo lines\",Energy\nA2,Bad\u{0}Name,Energy\nA3,Acme\u{1}Corp,Retail\n";
    let errs = errors(import(&store, Kind::Accounts, file).await);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("line 4, column 'name'"), "{errs:?}");
    assert!(errs[0].contains("the control character U+0000"), "{errs:?}");
    assert!(errs[1].starts_with("line 5, column 'name'") && errs[1].contains("U+0001"), "{errs:?}");
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), 0);
}

async fn bom_semicolons_quotes_and_any_script_are_read(store: Store) {
    let file = "\u{feff}account_id;name;vertical\n\
                J1;株式会社サクラ精機;Manufacturing\n\
                J2;\"Müller; Präzision \"\"Werk\"\"\nGmbH\";Manufacturing\n\
                J3;ООО Северный Ветер;Energy\n";
    let summary = import(&store, Kind::Accounts, file).await.unwrap();
    assert_eq!(summary.counts.inserted, 3);
    let out = export(&store, Kind::Accounts).await;
    assert!(out.contains("J1,株式会社サクラ精機,Manufacturing"), "{out}");
    assert!(out.contains("J2,\"Müller; Präzision \"\"Werk\"\"\nGmbH\",Manufacturing"), "{out}");
    assert!(out.contains("J3,ООО Северный Ветер,Energy"), "{out}");
}

async fn crm_exports_are_understood_and_unknown_columns_kept(store: Store) {
    let salesforce = "Account ID,Account Name,Industry,Account Owner,Billing City\n\
                      001A,Acme Corp,Manufacturing,Jane Smith,Lyon\n";
    import(&store, Kind::Accounts, salesforce).await.unwrap();
    let hubspot = "Record ID,First Name,Last Name,Email,Job Title,Phone Number,Company ID,Lifecycle Stage\n\
                   9001,Ana,Ruiz,ana@acme.example,CFO,+1 555 0100,001A,customer\n";
    import(&store, Kind::Contacts, hubspot).await.unwrap();
    let accounts = export(&store, Kind::Accounts).await;
    assert!(accounts.lines().next().unwrap().ends_with(",strategic,sponsor_email,Billing City"), "{accounts}");
    assert!(accounts.contains("001A,Acme Corp,Manufacturing,,Jane Smith,,,,,,,,Lyon"), "{accounts}");
    let contacts = export(&store, Kind::Contacts).await;
    assert!(contacts.contains("9001,001A,Ana Ruiz,CFO,,ana@acme.example,+1 555 0100,,false,customer"), "{contacts}");

    // Attributes from another file merge with those already kept.
    import(&store, Kind::Accounts, "account_id,name,Tier\n001A,Acme Corp,Gold\n").await.unwrap();
    let accounts = export(&store, Kind::Accounts).await;
    assert!(accounts.contains("001A,Acme Corp,Manufacturing,,Jane Smith,,,,,,,,Lyon,Gold"), "{accounts}");
}

async fn dry_run_validates_without_storing(store: Store) {
    let options = ImportOptions { dry_run: true, ..ImportOptions::default() };
    let summary = import_reader(&store, Kind::Accounts, ACCOUNTS.as_bytes(), options, &mut |_| {}).await.unwrap();
    assert!(summary.dry_run);
    assert_eq!(summary.counts.inserted, 3);
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), 0);
}

async fn a_contact_answering_twice_keeps_both_answers(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,comment,brand,delivery\n\
                   C1,2026-Q3,2026-08-01T09:00:00Z,6,Late again.,3,2\n\
                   C1,2026-Q3,2026-08-20T09:00:00+02:00,9,Fixed now,4,5\n\
                   C2,2026-Q3,2026-08-02,10,,5,\n";
    let first = import(&store, Kind::Responses, answers).await.unwrap();
    assert_eq!(first.counts.inserted, 3);
    let again = import(&store, Kind::Responses, answers).await.unwrap();
    assert_eq!((again.counts.inserted, again.counts.updated), (0, 0));
    assert_eq!(store.count(Kind::Responses).await.unwrap(), 3);
    assert_eq!(store.list_waves().await.unwrap().iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["2026-Q3"]);
    let out = export(&store, Kind::Responses).await;
    assert!(out.contains("C1,2026-Q3,2026-08-20T07:00:00Z,9,Fixed now,4,5"), "{out}");
}

async fn the_comments_of_a_wave_are_each_contacts_latest_answer_that_has_one(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    // C1 commented twice (the later counts); C2's later answer has no comment, so its earlier
    // comment no longer speaks for C2; C3's comment is written as a script would be; another
    // wave's comment stays out.
    let answers = "contact_id,wave,submitted_at,ltr,comment\n\
                   C1,2026-Q3,2026-08-01T09:00:00Z,6,Late again.\n\
                   C1,2026-Q3,2026-08-20T09:00:00+02:00,9,Fixed now\n\
                   C2,2026-Q3,2026-08-02,3,Pricing went up\n\
                   C2,2026-Q3,2026-08-03,8,\n\
                   C3,2026-Q3,2026-08-04,2,\"<script>alert(1)</script>, the invoice\"\n\
                   C3,2026-Q4,2026-11-04,9,Better\n";
    import(&store, Kind::Responses, answers).await.unwrap();
    let (wave, _, _) = store.wave_by_name("2026-Q3").await.unwrap().expect("the wave was imported");
    let comments = store.wave_comments(wave).await.unwrap();
    let seen: Vec<(&str, u8, &str, &str)> =
        comments.iter().map(|c| (c.name.as_str(), c.ltr, c.comment.as_str(), c.submitted_on.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("Ana Ruiz", 9, "Fixed now", "2026-08-20"),
            ("Mia Chen", 2, "<script>alert(1)</script>, the invoice", "2026-08-04")
        ]
    );
    assert_eq!(comments[0].role, Some(RoleLevel::Executive));
    assert_ne!(comments[0].account_id, comments[1].account_id);
}

async fn every_kind_round_trips_through_export(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    import(&store, Kind::Revenue, "account_id,period,billed,booked\nA1,2026-Q1,100.5,20\nA1,2026-04,-3.07,\n")
        .await
        .unwrap();
    import(
        &store,
        Kind::Opportunities,
        "opportunity_id,account_id,amount,stage,outcome,discount_pct,opened_on,closed_on\n\
         O1,A1,50000,Negotiation,won,12.5,2026-01-10,2026-03-01\nO2,A2,,,open,,,\n",
    )
    .await
    .unwrap();
    import(
        &store,
        Kind::ServiceCases,
        "case_id,account_id,kind,opened_on,closed_on,effort_hours,billable\n\
         S1,A2,order_change,2026-02-01,2026-02-03,3.25,false\nS2,A2,exception,2026-02-05,,1,true\n",
    )
    .await
    .unwrap();
    import(
        &store,
        Kind::Responses,
        "contact_id,wave,submitted_at,ltr,comment,support\nC3,2026-Q1,,4,\"Slow, slow, slow\",2\n",
    )
    .await
    .unwrap();

    let exports: Vec<String> = export_all(&store).await;
    // Import the exports into an empty database of the same backend kind and export again.
    let url = match &store {
        Store::Sqlite(_) => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("copy.db").display());
            std::mem::forget(dir);
            url
        }
        Store::Postgres(_) => return round_trip_into(&store, &exports).await,
    };
    let copy = Store::connect(&url).await.unwrap();
    round_trip_into(&copy, &exports).await;
}

async fn export_all(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        out.push(export(store, kind).await);
    }
    out
}

/// Re-importing every export changes nothing and exports the same bytes.
async fn round_trip_into(target: &Store, exports: &[String]) {
    for (kind, csv) in Kind::ALL.into_iter().zip(exports) {
        let summary = import(target, kind, csv).await.unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(summary.counts.updated, 0, "{kind} changed on re-import");
    }
    for (kind, csv) in Kind::ALL.into_iter().zip(exports) {
        assert_eq!(&export(target, kind).await, csv, "{kind} differs after a round trip");
    }
}

async fn formula_cells_are_inert_in_exports_and_restored_on_import(store: Store) {
    // A column Rapport does not know becomes a custom attribute named by its header, which
    // goes out as a header of its own: guarded like any cell.
    let hostile = "account_id,name,vertical,=1+2\nX1,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",@SUM(A1),3\nX2,'=already quoted,-5+5,\n";
    import(&store, Kind::Accounts, hostile).await.unwrap();
    let out = export(&store, Kind::Accounts).await;
    assert!(out.lines().next().unwrap().ends_with(",'=1+2"), "{out}");
    assert!(out.contains("X1,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",'@SUM(A1)"), "{out}");
    // A file's '=x cell is a neutralised =x: it is stored as =x and neutralised again on export.
    assert!(out.contains("X2,'=already quoted,'-5+5"), "{out}");
    let again = import(&store, Kind::Accounts, &out).await.unwrap();
    assert_eq!(again.counts.updated, 0);
}

async fn reports_read_every_field_of_an_account_as_stored(store: Store) {
    // Reports read the whole portfolio in bulk (on PostgreSQL through binary COPY): every
    // type of field, filled and empty, and names in any script come out as stored.
    let csv = format!(
        "{ACCOUNTS}A4,\"Zürich Präzision, 東京 & Søn\",Manufacturing,APAC,mei@rapport.example,-1.05,0,7,0,transaction,false\n"
    );
    import(&store, Kind::Accounts, &csv).await.unwrap();
    let accounts = store.portfolio_accounts().await.unwrap();
    let ids: Vec<&str> = accounts.iter().map(|a| a.account.account_id.as_str()).collect();
    assert_eq!(ids, ["A1", "A2", "A3", "A4"], "ordered by CRM id");
    for a in &accounts {
        assert_eq!(store.find_account_id(&a.account.account_id).await.unwrap(), Some(a.id));
    }
    let full = &accounts[0].account;
    assert_eq!(
        (full.name.as_str(), full.vertical.as_deref(), full.region.as_deref(), full.owner_email.as_deref()),
        ("Northwind Logistics", Some("Logistics"), Some("EMEA"), Some("ana@rapport.example"))
    );
    assert_eq!(
        (full.billed_revenue, full.potential_revenue, full.cost_of_sales),
        (Some(Money(125_000_050)), Some(Money(30_000_000)), Some(Money(90_000_000)))
    );
    assert_eq!(
        (full.payment_days, full.relationship_style, full.strategic),
        (Some(45), Some(RelationshipStyle::Relationship), Some(true))
    );
    let empty = &accounts[2].account;
    assert_eq!(empty.name, "Granite Peak Energy");
    assert_eq!((empty.vertical.as_deref(), empty.region.as_deref(), empty.owner_email.as_deref()), (None, None, None));
    assert_eq!((empty.billed_revenue, empty.potential_revenue, empty.cost_of_sales), (None, None, None));
    assert_eq!(
        (empty.payment_days, empty.relationship_style, empty.strategic, empty.sponsor_email.as_deref()),
        (None, None, None, None)
    );
    let other = &accounts[3].account;
    assert_eq!(other.name, "Zürich Präzision, 東京 & Søn");
    assert_eq!(
        (other.billed_revenue, other.potential_revenue, other.payment_days),
        (Some(Money(-105)), Some(Money(0)), Some(0))
    );
    assert_eq!((other.relationship_style, other.strategic), (Some(RelationshipStyle::Transaction), Some(false)));
}

async fn analytics_cells_follow_every_import_and_equal_a_rebuild(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, &format!("{CONTACTS}C4,A2,No Role,,,,\n")).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,comment,brand,delivery\n\
                   C1,2026-Q3,2026-08-01T09:00:00Z,6,Late again.,3,2\n\
                   C1,2026-Q3,2026-08-20T09:00:00Z,9,Fixed now,4,5\n\
                   C2,2026-Q3,2026-08-02,10,,5,\n\
                   C3,2026-Q3,2026-08-03,4,,,1\n\
                   C4,2026-Q3,2026-08-04,8,,2,\n";
    import(&store, Kind::Responses, answers).await.unwrap();

    let waves = store.list_waves().await.unwrap();
    let accounts = store.portfolio_accounts().await.unwrap();
    let id_of = |ext: &str| accounts.iter().find(|a| a.account.account_id == ext).unwrap().id;
    let cell = |cells: &[rapport_store::analytics::WaveCell], account: &str, role: Option<RoleLevel>| {
        cells.iter().find(|c| c.account_id == id_of(account) && c.role == role).map(|c| c.stats.clone())
    };
    let cells = store.wave_cells(waves[0].id).await.unwrap().to_cells().unwrap();
    // A1: the executive's latest answer (9, not 6) and the manager's 10.
    let exec = cell(&cells, "A1", Some(RoleLevel::Executive)).unwrap();
    assert_eq!((exec.loyalty.promoters, exec.loyalty.detractors, exec.loyalty.ltr_sum), (1, 0, 9));
    assert_eq!(exec.drivers["delivery"].sum_x, 5);
    let manager = cell(&cells, "A1", Some(RoleLevel::Manager)).unwrap();
    assert_eq!(manager.loyalty.promoters, 1);
    assert!(!manager.drivers.contains_key("delivery"), "a missing rating adds nothing");
    // A2: a user detractor, and a contact with no role level kept in its own cell.
    assert_eq!(cell(&cells, "A2", Some(RoleLevel::User)).unwrap().loyalty.detractors, 1);
    assert_eq!(cell(&cells, "A2", None).unwrap().loyalty.passives, 1);
    assert_eq!(cells.len(), 4);

    // A corrected file moves the figures within the same import.
    import(&store, Kind::Responses, &answers.replace("C2,2026-Q3,2026-08-02,10", "C2,2026-Q3,2026-08-02,3"))
        .await
        .unwrap();
    let cells = store.wave_cells(waves[0].id).await.unwrap().to_cells().unwrap();
    assert_eq!(cell(&cells, "A1", Some(RoleLevel::Manager)).unwrap().loyalty.detractors, 1);

    let maintained = store.dump_analytics().await.unwrap();
    let summary = store.rebuild_analytics().await.unwrap();
    assert_eq!((summary.answers, summary.cells, summary.corrected), (5, 4, 0), "every cell was right");
    assert_eq!(store.dump_analytics().await.unwrap(), maintained);
}

/// A rebuild compares what it recomputes with the stored cells and writes only the
/// difference: a cell changed behind Rapport's back, one deleted and one no answer accounts
/// for are each corrected, and the rest left as they are.
async fn a_rebuild_corrects_exactly_the_cells_that_differ_from_the_answers(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,brand,delivery\n\
                   C1,2026-Q3,2026-08-01,9,4,5\nC2,2026-Q3,2026-08-02,3,,2\nC3,2026-Q3,2026-08-03,7,3,\n";
    import(&store, Kind::Responses, answers).await.unwrap();
    let maintained = store.dump_analytics().await.unwrap();
    assert_eq!(maintained.len(), 3, "A1's executive and manager, A2's user: {maintained:?}");

    let account = |ext: &str| format!("(SELECT id FROM accounts WHERE external_id = '{ext}')");
    for sql in [
        format!(
            "UPDATE wave_account_stats SET promoters = promoters + 5 WHERE role = 'executive' AND account_id = {}",
            account("A1")
        ),
        format!("DELETE FROM wave_account_stats WHERE role = 'user' AND account_id = {}", account("A2")),
        format!(
            "INSERT INTO wave_account_stats (wave_id, account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq) \
             SELECT id, {}, 'manager', 1, 0, 0, 10, 100 FROM waves",
            account("A2")
        ),
    ] {
        match &store {
            Store::Sqlite(db) => sqlx::query(&sql).execute(db.readers()).await.unwrap().rows_affected(),
            Store::Postgres(pool) => sqlx::query(&sql).execute(pool).await.unwrap().rows_affected(),
        };
    }
    assert_eq!(store.dump_analytics().await.unwrap().len(), 3);
    assert_ne!(store.dump_analytics().await.unwrap(), maintained);

    let summary = store.rebuild_analytics().await.unwrap();
    assert_eq!((summary.answers, summary.cells, summary.corrected), (3, 3, 3), "changed, missing, left over");
    assert_eq!(store.dump_analytics().await.unwrap(), maintained, "the cells equal the answers again");
    let again = store.rebuild_analytics().await.unwrap();
    assert_eq!(again.corrected, 0, "nothing left to correct");
}

/// A file of answers for more accounts than PostgreSQL can lock one by one (its lock table
/// holds about 6,400 by default): the import locks the whole portfolio instead, and counts
/// every answer.
async fn answers_for_twenty_thousand_accounts_import_in_one_file(store: Store) {
    const N: usize = 20_000;
    let mut accounts = String::from("account_id,name\n");
    let mut contacts = String::from("contact_id,account_id,name,role\n");
    let mut answers = String::from("contact_id,wave,submitted_at,ltr,delivery\n");
    for i in 0..N {
        accounts.push_str(&format!("A{i},Account {i}\n"));
        contacts.push_str(&format!("C{i},A{i},Contact {i},user\n"));
        answers.push_str(&format!("C{i},2026-Q3,2026-08-01,{},{}\n", i % 11, 1 + i % 5));
    }
    import(&store, Kind::Accounts, &accounts).await.unwrap();
    import(&store, Kind::Contacts, &contacts).await.unwrap();
    let summary = import(&store, Kind::Responses, &answers).await.unwrap();
    assert_eq!(summary.counts.inserted, N as u64);

    let waves = store.list_waves().await.unwrap();
    let cells = store.wave_cells(waves[0].id).await.unwrap().to_cells().unwrap();
    assert_eq!(cells.len(), N, "one cell per account");
    // LTR runs 0..=10 over and over: 2 promoters, 2 passives and 7 detractors in every 11.
    let promoters: u64 = cells.iter().map(|c| c.stats.loyalty.promoters).sum();
    let detractors: u64 = cells.iter().map(|c| c.stats.loyalty.detractors).sum();
    let full = (N / 11) as u64;
    assert_eq!((promoters, detractors), (2 * full, 7 * full + 2), "20,000 = 1,818 x 11 + 2 (LTR 0 and 1)");
    // Summed for a report (in two halves at this size): every answer counts once.
    let accounts = store.portfolio_accounts().await.unwrap();
    let all = store.wave_cells(waves[0].id).await.unwrap().by_segment(&accounts, None, None, true).unwrap();
    assert_eq!((all["all"].loyalty.promoters, all["all"].drivers["delivery"].n), (2 * full, N as u64));
    let maintained = store.dump_analytics().await.unwrap();
    store.rebuild_analytics().await.unwrap();
    assert_eq!(store.dump_analytics().await.unwrap(), maintained);
}

/// A database made before each cell's driver sums were packed into its row still has them in
/// a table of their own: opening it recomputes every cell from the answers, once, and drops
/// that table.
async fn cells_of_a_database_from_before_packed_drivers_are_recomputed_when_it_opens(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,brand,delivery\n\
                   C1,2026-Q3,2026-08-01,9,4,5\nC2,2026-Q3,2026-08-02,3,,2\nC3,2026-Q4,2026-11-03,7,3,\n";
    import(&store, Kind::Responses, answers).await.unwrap();
    let maintained = store.dump_analytics().await.unwrap();
    assert!(maintained.iter().any(|cell| cell.contains("delivery")), "{maintained:?}");

    // As such a database opens after migration 0014: the old table, and no driver in any row.
    let old_table = "CREATE TABLE wave_driver_stats (wave_id BIGINT NOT NULL, driver TEXT NOT NULL)";
    let old_row = "INSERT INTO wave_driver_stats (wave_id, driver) VALUES (1, 'delivery')";
    let (url, exists) = match &store {
        Store::Sqlite(db) => {
            sqlx::query(old_table).execute(db.readers()).await.unwrap();
            sqlx::query(old_row).execute(db.readers()).await.unwrap();
            sqlx::query("UPDATE wave_account_stats SET drivers = $1")
                .bind(vec![0u8])
                .execute(db.readers())
                .await
                .unwrap();
            let file: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(db.readers())
                .await
                .unwrap();
            (format!("sqlite://{file}"), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'wave_driver_stats'")
        }
        Store::Postgres(pool) => {
            sqlx::query(old_table).execute(pool).await.unwrap();
            sqlx::query(old_row).execute(pool).await.unwrap();
            sqlx::query("UPDATE wave_account_stats SET drivers = $1").bind(vec![0u8]).execute(pool).await.unwrap();
            let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(pool).await.unwrap();
            let admin = rapport_test_utils::postgres_admin_url();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_string();
            (format!("{base}/{name}"), "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'wave_driver_stats'")
        }
    };
    assert_ne!(store.dump_analytics().await.unwrap(), maintained, "the driver sums are gone");

    let reopened = Store::connect(&url).await.unwrap();
    assert_eq!(reopened.dump_analytics().await.unwrap(), maintained, "recomputed from the answers");
    let left: i64 = match &reopened {
        Store::Sqlite(db) => sqlx::query_scalar(exists).fetch_one(db.readers()).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_scalar(exists).fetch_one(pool).await.unwrap(),
    };
    assert_eq!(left, 0, "the per-driver table is dropped");
    reopened.close().await;
}

async fn driver_sums_per_segment_equal_the_cells_added_up_by_segment(store: Store) {
    use rapport_core::segment::Dimension;
    use rapport_core::stats::CellStats;
    use rapport_store::report_cache::ReportCache;
    use std::collections::BTreeMap;
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    // C4 has no role level and C5 works at A3, which has no vertical, region, owner, style or flag.
    let contacts = format!("{CONTACTS}C4,A2,No Role,,,,\nC5,A3,Eve Stone,,manager,,\n");
    import(&store, Kind::Contacts, &contacts).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,comment,brand,delivery,support\n\
                   C1,2026-Q3,2026-08-01,9,,4,5,3\n\
                   C2,2026-Q3,2026-08-02,10,,5,,4\n\
                   C3,2026-Q3,2026-08-03,4,,2,1,\n\
                   C4,2026-Q3,2026-08-04,8,,3,,2\n\
                   C5,2026-Q3,2026-08-05,6,,,2,5\n\
                   C1,2026-Q4,2026-11-01,2,,1,1,1\n";
    import(&store, Kind::Responses, answers).await.unwrap();
    // The first wave: the answer of the next one must not count in it.
    let wave = store.list_waves().await.unwrap()[0].id;
    let accounts = store.portfolio_accounts().await.unwrap();
    let cells = store.wave_cells(wave).await.unwrap().to_cells().unwrap();
    for by in Dimension::ALL {
        let mut expected: BTreeMap<String, CellStats> = BTreeMap::new();
        for cell in &cells {
            let account = &accounts.iter().find(|a| a.id == cell.account_id).unwrap().account;
            expected.entry(by.key(account, cell.role).into_owned()).or_default().merge(&cell.stats);
        }
        // Summed in memory from the wave's cells, as reports read them...
        let cache = ReportCache::new();
        assert_eq!(*cache.drivers_by_segment(&store, wave, by).await.unwrap(), expected, "by {by:?}");
        let loyalty: Vec<_> = expected.iter().map(|(segment, stats)| (wave, segment.clone(), stats.loyalty)).collect();
        assert_eq!(*cache.loyalty_by_segment(&store, Some(wave), Some(by), None).await.unwrap(), loyalty, "by {by:?}");
        // ...and grouped by the database, as trends read every wave.
        assert_eq!(store.loyalty_by_segment(Some(wave), Some(by), None).await.unwrap(), loyalty, "by {by:?}");
    }
}

async fn the_report_cache_never_serves_stale_figures(store: Store) {
    use rapport_store::report_cache::ReportCache;
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    import(&store, Kind::Responses, "contact_id,wave,ltr\nC1,2026-Q1,10\n").await.unwrap();
    let wave = store.list_waves().await.unwrap()[0].id;
    let cache = ReportCache::new();
    // A second process's cache: both must see a change made through either.
    let other = ReportCache::new();
    let first = cache.loyalty_by_segment(&store, Some(wave), None, None).await.unwrap();
    assert_eq!(first[0].2.promoters, 1);
    let again = cache.loyalty_by_segment(&store, Some(wave), None, None).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "unchanged data is served from memory");
    other.loyalty_by_segment(&store, Some(wave), None, None).await.unwrap();

    import(&store, Kind::Responses, "contact_id,wave,ltr\nC2,2026-Q1,0\n").await.unwrap();
    for c in [&cache, &other] {
        let fresh = c.loyalty_by_segment(&store, Some(wave), None, None).await.unwrap();
        assert_eq!((fresh[0].2.promoters, fresh[0].2.detractors), (1, 1), "an import invalidates every cache");
    }
    // A dry run changes nothing, so the cache stays.
    let before = cache.loyalty_by_segment(&store, Some(wave), None, None).await.unwrap();
    let dry = ImportOptions { dry_run: true, ..ImportOptions::default() };
    import_reader(&store, Kind::Responses, "contact_id,wave,ltr\nC3,2026-Q1,9\n".as_bytes(), dry, &mut |_| {})
        .await
        .unwrap();
    let after = cache.loyalty_by_segment(&store, Some(wave), None, None).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&before, &after));
}

async fn an_idempotency_key_is_held_while_its_call_runs_and_then_replays(store: Store) {
    use rapport_store::idempotency::{KEEP_SECONDS, KeyState, PENDING_SECONDS, Remembered};
    use rapport_store::users::NewUser;
    let new_user = NewUser {
        email: "sync@test.example".into(),
        name: "Sync".into(),
        role: rapport_core::user::Role::Admin,
        manager_email: None,
    };
    let user = store.upsert_user(&new_user).await.unwrap();
    let now = 1_800_000_000;
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-a", now).await.unwrap(), KeyState::Reserved);
    // A retry while the first call runs finds it running, whatever it asks.
    let running = KeyState::InProgress { request_hash: "hash-a".into() };
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-a", now + 1).await.unwrap(), running);
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-b", now + 1).await.unwrap(), running);
    store.complete_idempotency_key(user, "k1", 201, r#"{"id":7}"#).await.unwrap();
    let done = KeyState::Done(Remembered { request_hash: "hash-a".into(), status: 201, body: r#"{"id":7}"#.into() });
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-a", now + 2).await.unwrap(), done);
    // Releasing a finished key does nothing: only a running call's reservation is freed.
    store.release_idempotency_key(user, "k1").await.unwrap();
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-a", now + 3).await.unwrap(), done);
    // A call that failed frees its key: the retry runs.
    assert_eq!(store.reserve_idempotency_key(user, "k2", "hash-c", now).await.unwrap(), KeyState::Reserved);
    store.release_idempotency_key(user, "k2").await.unwrap();
    assert_eq!(store.reserve_idempotency_key(user, "k2", "hash-c", now + 1).await.unwrap(), KeyState::Reserved);
    // A reservation left by a call that never finished lapses; a response is kept a day.
    let later = now + 1 + PENDING_SECONDS;
    assert_eq!(store.reserve_idempotency_key(user, "k2", "hash-c", later).await.unwrap(), KeyState::Reserved);
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-a", later).await.unwrap(), done);
    let next_day = now + KEEP_SECONDS;
    assert_eq!(store.reserve_idempotency_key(user, "k1", "hash-a", next_day).await.unwrap(), KeyState::Reserved);
    // Keys are per user.
    let other = store.upsert_user(&NewUser { email: "other@test.example".into(), ..new_user }).await.unwrap();
    assert_eq!(store.reserve_idempotency_key(other, "k1", "hash-z", next_day).await.unwrap(), KeyState::Reserved);
}
