//! Which column of a file holds which field: canonical headers, matched case-insensitively,
//! and the headers of common CRM exports (Salesforce, HubSpot).

use crate::kind::Kind;

/// Lower-cases a header and turns every run of other characters into one underscore, so
/// "Account ID", "account-id" and "ACCOUNT_ID" are the same header.
pub fn normalize(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut gap = false;
    for c in header.trim().trim_start_matches('\u{feff}').chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// The other names (normalised) under which each canonical field arrives.
fn aliases(kind: Kind, field: &str) -> &'static [&'static str] {
    match (kind, field) {
        (Kind::Accounts, "account_id") => &["id", "record_id", "company_id", "salesforce_id", "account_number"],
        (Kind::Accounts, "name") => &["account_name", "company_name", "company", "account"],
        (Kind::Accounts, "vertical") => &["industry", "vertical_market", "segment"],
        (Kind::Accounts, "region") => &["sales_region", "territory"],
        (Kind::Accounts, "owner_email") => &["account_owner", "company_owner", "owner", "account_owner_email"],
        (Kind::Accounts, "sponsor_email") => {
            &["executive_sponsor", "sponsor", "exec_sponsor", "executive_sponsor_email"]
        }
        (Kind::Accounts, "billed_revenue") => &["billed", "revenue_billed"],
        (Kind::Accounts, "potential_revenue") => &["potential", "pipeline"],
        (Kind::Accounts, "relationship_style") => &["buying_style"],
        (Kind::Accounts, "strategic") => &["strategic_account", "key_account"],
        (Kind::Contacts, "contact_id") => &["id", "record_id"],
        (Kind::Contacts, "account_id") => &["associated_company_id", "company_id", "associated_company_ids"],
        (Kind::Contacts, "name") => &["full_name", "contact_name"],
        (Kind::Contacts, "title") => &["job_title"],
        (Kind::Contacts, "role") => &["role_level", "level"],
        (Kind::Contacts, "email") => &["email_address", "work_email"],
        (Kind::Contacts, "phone") => &["phone_number", "mobile_phone", "mobile", "mobile_phone_number"],
        (Kind::Contacts, "language") => &["preferred_language", "language_code"],
        (Kind::Contacts, "opted_out") => &["email_opt_out", "unsubscribed_from_all_email", "opt_out", "do_not_survey"],
        (Kind::Revenue, "period") => &["month", "quarter"],
        (Kind::Opportunities, "opportunity_id") => &["id", "record_id", "deal_id"],
        (Kind::Opportunities, "account_id") => &["associated_company_id", "company_id"],
        (Kind::Opportunities, "stage") => &["deal_stage"],
        (Kind::Opportunities, "discount_pct") => &["discount", "discount_percent"],
        (Kind::Opportunities, "opened_on") => &["created_date", "create_date"],
        (Kind::Opportunities, "closed_on") => &["close_date"],
        (Kind::ServiceCases, "case_id") => &["id", "case_number", "ticket_id"],
        (Kind::ServiceCases, "kind") => &["type", "case_type"],
        (Kind::ServiceCases, "opened_on") => &["date_opened", "created_date", "date_time_opened"],
        (Kind::ServiceCases, "closed_on") => &["date_closed", "closed_date", "date_time_closed"],
        (Kind::ServiceCases, "effort_hours") => &["effort", "hours"],
        (Kind::Responses, "ltr") => &["nps", "likelihood_to_recommend", "score"],
        (Kind::Responses, "comment") => &["comments", "verbatim"],
        (Kind::Responses, "submitted_at") => &["submitted", "date", "response_date"],
        _ => &[],
    }
}

/// The fields a file of this kind must have.
pub fn required(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Accounts => &["account_id", "name"],
        Kind::Contacts => &["contact_id", "account_id", "name"],
        Kind::Revenue => &["account_id", "period"],
        Kind::Opportunities => &["opportunity_id", "account_id"],
        Kind::ServiceCases => &["case_id", "account_id"],
        Kind::Responses => &["contact_id", "wave", "ltr"],
    }
}

/// Where each field of a kind sits in a file's header.
#[derive(Debug, Clone)]
pub struct Columns {
    /// (canonical field, column index, found under its canonical name) for every field found.
    fields: Vec<(&'static str, usize, bool)>,
    /// Contacts given as "First Name" + "Last Name" (HubSpot, Salesforce).
    pub first_last: Option<(usize, usize)>,
    /// (header as written, column index) for columns with no field: custom attributes, or
    /// for responses the rated questions.
    pub extra: Vec<(String, usize)>,
    /// Original header text per column, for error messages.
    pub headers: Vec<String>,
}

/// A header that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderProblem {
    /// What is wrong, and what to do.
    pub message: String,
}

impl Columns {
    /// Maps a header row. Every problem is reported at once: missing required columns, and
    /// two columns that mean the same field.
    pub fn resolve(kind: Kind, header: &[String]) -> Result<Columns, Vec<HeaderProblem>> {
        let normalized: Vec<String> = header.iter().map(|h| normalize(h)).collect();
        let mut fields: Vec<(&'static str, usize, bool)> = Vec::new();
        let mut problems = Vec::new();
        let mut used = vec![false; header.len()];
        for &field in kind.canonical_headers() {
            // The canonical name wins over an alias when both are present.
            let exact: Vec<usize> = (0..header.len()).filter(|&i| normalized[i] == field).collect();
            let canonical = !exact.is_empty();
            let found = if exact.is_empty() {
                let alias: Vec<usize> = (0..header.len())
                    .filter(|&i| !used[i] && aliases(kind, field).contains(&normalized[i].as_str()))
                    .collect();
                alias
            } else {
                exact
            };
            match found.as_slice() {
                [] => {}
                [i] => {
                    used[*i] = true;
                    fields.push((field, *i, canonical));
                }
                many => {
                    let names: Vec<&str> = many.iter().map(|&i| header[i].as_str()).collect();
                    problems.push(HeaderProblem {
                        message: format!(
                            "columns {} all mean '{field}': keep one of them, or rename the others",
                            names.join(", ")
                        ),
                    });
                    for &i in many {
                        used[i] = true;
                    }
                }
            }
        }
        let mut first_last = None;
        if kind == Kind::Contacts && !fields.iter().any(|(f, _, _)| *f == "name") {
            let first = normalized.iter().position(|h| h == "first_name");
            let last = normalized.iter().position(|h| h == "last_name");
            if let (Some(f), Some(l)) = (first, last) {
                used[f] = true;
                used[l] = true;
                first_last = Some((f, l));
            }
        }
        for &field in required(kind) {
            let present = fields.iter().any(|(f, _, _)| *f == field) || (field == "name" && first_last.is_some());
            if !present {
                let also = aliases(kind, field);
                let hint = if also.is_empty() { String::new() } else { format!(" (or one of: {})", also.join(", ")) };
                problems.push(HeaderProblem {
                    message: format!("the required column '{field}'{hint} is missing from the header (line 1)"),
                });
            }
        }
        let mut extra = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if used[i] {
                continue;
            }
            // An export guards a header that reads like a formula as it does any cell.
            let name = crate::formula::unguard(h.trim().trim_start_matches('\u{feff}')).to_string();
            if name.is_empty() {
                continue;
            }
            if extra.iter().any(|(n, _): &(String, usize)| n == &name) {
                problems.push(HeaderProblem { message: format!("the column '{name}' appears twice in the header") });
                continue;
            }
            // An answer's rated questions are keyed by their normalised name ("Support " and
            // "support" are one question): two columns for one would overwrite each other.
            if kind == Kind::Responses
                && let Some((other, _)) = extra.iter().find(|(n, _)| normalize(n) == normalized[i])
            {
                problems.push(HeaderProblem {
                    message: format!(
                        "the columns '{other}' and '{name}' are the same rated question ('{}'): keep one",
                        normalized[i]
                    ),
                });
                continue;
            }
            extra.push((name, i));
        }
        if problems.is_empty() {
            Ok(Columns { fields, first_last, extra, headers: header.to_vec() })
        } else {
            Err(problems)
        }
    }

    /// The column index of a canonical field, if the file has it.
    pub fn index(&self, field: &str) -> Option<usize> {
        self.fields.iter().find(|(f, _, _)| *f == field).map(|(_, i, _)| *i)
    }

    /// Whether the file names the field by its canonical header (not a CRM alias).
    pub fn is_canonical(&self, field: &str) -> bool {
        self.fields.iter().any(|(f, _, canonical)| *f == field && *canonical)
    }

    /// The header as the file wrote it for a field (for error messages).
    pub fn header_of(&self, field: &str) -> String {
        match self.index(field) {
            Some(i) => self.headers[i].trim().trim_start_matches('\u{feff}').to_string(),
            None => field.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(kind: Kind, header: &[&str]) -> Result<Columns, Vec<HeaderProblem>> {
        Columns::resolve(kind, &header.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn headers_match_in_any_case_and_spacing() {
        assert_eq!(normalize(" Account ID "), "account_id");
        assert_eq!(normalize("\u{feff}ACCOUNT_ID"), "account_id");
        assert_eq!(normalize("Date/Time Opened"), "date_time_opened");
    }

    #[test]
    fn salesforce_account_export_maps_to_fields() {
        let c =
            cols(Kind::Accounts, &["Account ID", "Account Name", "Industry", "Account Owner", "Billing City"]).unwrap();
        assert_eq!(c.index("account_id"), Some(0));
        assert_eq!(c.index("name"), Some(1));
        assert_eq!(c.index("vertical"), Some(2));
        assert_eq!(c.index("owner_email"), Some(3));
        assert_eq!(c.extra, vec![("Billing City".to_string(), 4)]);
    }

    #[test]
    fn hubspot_contact_export_joins_first_and_last_name() {
        let c = cols(
            Kind::Contacts,
            &["Record ID", "First Name", "Last Name", "Email", "Job Title", "Phone Number", "Company ID"],
        )
        .unwrap();
        assert_eq!(c.index("contact_id"), Some(0));
        assert_eq!(c.first_last, Some((1, 2)));
        assert_eq!(c.index("email"), Some(3));
        assert_eq!(c.index("title"), Some(4));
        assert_eq!(c.index("phone"), Some(5));
        assert_eq!(c.index("account_id"), Some(6));
    }

    #[test]
    fn every_header_problem_is_reported_at_once() {
        let problems = cols(Kind::Contacts, &["email", "Email", "title"]).unwrap_err();
        let text: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(text.iter().any(|m| m.contains("all mean 'email'")), "{text:?}");
        assert!(text.iter().any(|m| m.contains("'contact_id'")), "{text:?}");
        assert!(text.iter().any(|m| m.contains("'account_id'")), "{text:?}");
        assert!(text.iter().any(|m| m.contains("'name'")), "{text:?}");
    }

    #[test]
    fn two_columns_for_one_rated_question_are_refused() {
        let problems = cols(Kind::Responses, &["contact_id", "wave", "ltr", "Support", "support "]).unwrap_err();
        assert_eq!(
            problems[0].message,
            "the columns 'Support' and 'support' are the same rated question ('support'): keep one"
        );
        // Custom attributes keep their names as written: two of them may differ only in case.
        assert!(cols(Kind::Accounts, &["account_id", "name", "Tier", "tier"]).is_ok());
    }

    #[test]
    fn canonical_name_wins_over_an_alias() {
        let c = cols(Kind::Accounts, &["id", "account_id", "name"]).unwrap();
        assert_eq!(c.index("account_id"), Some(1));
        assert_eq!(c.extra, vec![("id".to_string(), 0)]);
    }
}
