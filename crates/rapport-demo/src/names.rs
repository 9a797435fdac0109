//! Names: companies, people in several cultures and scripts, job titles, domains, phones.

use rand::Rng;

use crate::random::{DemoRng, permute, pick, weighted};

/// The vertical markets of the demo, in the order the driver weights use.
pub const VERTICALS: [&str; 7] =
    ["Manufacturing", "Healthcare", "Financial Services", "Retail", "Logistics", "Energy", "Technology"];

/// The sales regions of the demo.
pub const REGIONS: [&str; 4] = ["North America", "EMEA", "APAC", "LATAM"];

/// How accounts spread over `REGIONS`, in percent.
pub(crate) const REGION_WEIGHTS: [u32; 4] = [40, 32, 18, 10];

const PREFIXES: [&str; 64] = [
    "Northwind",
    "Helix",
    "Granite Peak",
    "Bluewater",
    "Redwood",
    "Silverline",
    "Ironbridge",
    "Summit",
    "Cobalt",
    "Evergreen",
    "Harborview",
    "Keystone",
    "Lakeshore",
    "Meridian",
    "Oakridge",
    "Pinnacle",
    "Quantum",
    "Riverbend",
    "Sterling",
    "Trident",
    "Vanguard",
    "Westfield",
    "Zenith",
    "Aurora",
    "Beacon",
    "Cascade",
    "Crescent",
    "Deltaline",
    "Falcon",
    "Frontier",
    "Golden Gate",
    "Highland",
    "Horizon",
    "Juniper",
    "Kestrel",
    "Lighthouse",
    "Magnolia",
    "Nova",
    "Orion",
    "Pacifica",
    "Polaris",
    "Prairie",
    "Redstone",
    "Sapphire",
    "Sequoia",
    "Sierra",
    "Solstice",
    "Stonebridge",
    "Tidewater",
    "Titan",
    "Unity",
    "Vertex",
    "Willow Creek",
    "Atlas",
    "Bright Harbor",
    "Copperfield",
    "Eastgate",
    "Foxglove",
    "Greystone",
    "Hawthorne",
    "Kingsway",
    "Larkspur",
    "Mosaic",
    "Alder",
];

/// What a company in each vertical calls itself, in `VERTICALS` order.
const NOUNS: [[&str; 6]; 7] = [
    ["Precision", "Tooling", "Fabrication", "Industries", "Components", "Machining"],
    ["Biomedical", "Health", "Medical", "Diagnostics", "Care Partners", "Clinics"],
    ["Capital", "Bancorp", "Financial", "Insurance", "Credit Union", "Asset Management"],
    ["Retail", "Markets", "Outfitters", "Stores", "Home & Garden", "Grocers"],
    ["Logistics", "Freight", "Shipping", "Distribution", "Transport", "Cold Chain"],
    ["Energy", "Power", "Renewables", "Utilities", "Solar", "Gas & Electric"],
    ["Systems", "Software", "Networks", "Data", "Labs", "Cloud"],
];

/// Places that tell apart two companies whose base names would otherwise collide.
const PLACES: [&str; 40] = [
    "Rotterdam",
    "Osaka",
    "Monterrey",
    "Denver",
    "Lyon",
    "Gdansk",
    "Porto",
    "Tacoma",
    "Leeds",
    "Bilbao",
    "Aarhus",
    "Brisbane",
    "Calgary",
    "Dayton",
    "Essen",
    "Fresno",
    "Graz",
    "Halifax",
    "Incheon",
    "Jaipur",
    "Kobe",
    "Lille",
    "Malmo",
    "Nagoya",
    "Oulu",
    "Perth",
    "Quebec",
    "Recife",
    "Sapporo",
    "Tampere",
    "Utrecht",
    "Valencia",
    "Wichita",
    "Xiamen",
    "York",
    "Zaragoza",
    "Austin",
    "Bergen",
    "Cork",
    "Durban",
];

/// Legal suffixes by region (`REGIONS` order).
const SUFFIXES: [&[&str]; 4] = [
    &["Inc.", "Inc.", "Corp.", "LLC"],
    &["GmbH", "Ltd", "S.A.", "B.V.", "AG", "plc", "S.p.A."],
    &["KK", "Pte. Ltd.", "Pty Ltd", "Co., Ltd."],
    &["S.A.", "S.A. de C.V.", "Ltda."],
];

/// Distinct (prefix, vertical, noun) combinations before a place has to disambiguate.
const BASES: u64 = (PREFIXES.len() * NOUNS.len() * NOUNS[0].len()) as u64;

/// A generated company name, its email domain, and the vertical its name implies.
pub(crate) struct CompanyName {
    pub name: String,
    pub domain: String,
    pub vertical: usize,
}

/// The company name of account `index`: unique across the whole portfolio by
/// construction (a keyed bijection over base names, then a place, then a number), so
/// no set of names already given is needed while streaming.
pub(crate) fn company_name(seed: u64, index: usize, region: usize, rng: &mut DemoRng) -> CompanyName {
    let index = index as u64;
    let base = permute(index % BASES, BASES, seed);
    let round = index / BASES;
    let vertical = (base % NOUNS.len() as u64) as usize;
    let noun = NOUNS[vertical][((base / NOUNS.len() as u64) % NOUNS[0].len() as u64) as usize];
    let prefix = PREFIXES[(base / (NOUNS.len() * NOUNS[0].len()) as u64) as usize];
    let mut name = String::with_capacity(48);
    let mut domain = String::with_capacity(48);
    name.push_str(prefix);
    name.push(' ');
    name.push_str(noun);
    push_slug(&mut domain, prefix);
    domain.push('-');
    push_slug(&mut domain, noun);
    if round > 0 {
        let place = PLACES[((round - 1) % PLACES.len() as u64) as usize];
        name.push(' ');
        name.push_str(place);
        domain.push('-');
        push_slug(&mut domain, place);
        let lap = (round - 1) / PLACES.len() as u64;
        if lap > 0 {
            let n = (lap + 1).to_string();
            name.push(' ');
            name.push_str(&n);
            domain.push('-');
            domain.push_str(&n);
        }
    }
    name.push(' ');
    name.push_str(pick(rng, SUFFIXES[region]));
    domain.push_str(".example");
    CompanyName { name, domain, vertical }
}

/// Appends `text` as a lowercase ASCII domain label: letters and digits kept (accents
/// folded), runs of anything else become one '-'.
pub(crate) fn push_slug(out: &mut String, text: &str) {
    let start = out.len();
    let mut dash = false;
    for c in text.chars() {
        let folded = fold(c);
        if folded.is_empty() {
            dash = true;
            continue;
        }
        for f in folded.chars() {
            if f.is_ascii_alphanumeric() {
                if dash && out.len() > start {
                    out.push('-');
                }
                dash = false;
                out.push(f.to_ascii_lowercase());
            } else {
                dash = true;
            }
        }
    }
}

/// Appends `text` as the ASCII local part of an email: accents folded, apostrophes
/// dropped, spaces removed, hyphens kept.
pub(crate) fn push_ascii_local(out: &mut String, text: &str) {
    for c in text.chars() {
        if c == '-' {
            out.push('-');
        }
        for f in fold(c).chars() {
            if f.is_ascii_alphanumeric() {
                out.push(f.to_ascii_lowercase());
            }
        }
    }
}

/// ASCII spelling of a Latin letter; "" for what has none here (punctuation, spaces).
fn fold(c: char) -> &'static str {
    const ASCII: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    if c.is_ascii_alphanumeric() {
        let i = ASCII.find(c).unwrap_or(0);
        return &ASCII[i..=i];
    }
    match c {
        'á' | 'à' | 'â' | 'ã' | 'å' | 'ą' | 'Á' | 'À' | 'Â' | 'Ã' | 'Å' => "a",
        'ä' | 'Ä' | 'æ' => "ae",
        'ç' | 'ć' | 'Ç' | 'Ć' => "c",
        'é' | 'è' | 'ê' | 'ë' | 'ę' | 'É' | 'È' | 'Ê' => "e",
        'í' | 'ì' | 'î' | 'ï' | 'Í' => "i",
        'ł' | 'Ł' => "l",
        'ñ' | 'ń' | 'Ñ' => "n",
        'ó' | 'ò' | 'ô' | 'õ' | 'Ó' => "o",
        'ö' | 'Ö' | 'ø' | 'Ø' => "oe",
        'ś' | 'Ś' | 'š' | 'Š' => "s",
        'ß' => "ss",
        'ú' | 'ù' | 'û' | 'Ú' => "u",
        'ü' | 'Ü' => "ue",
        'ź' | 'ż' | 'Ź' | 'Ż' => "z",
        'ğ' => "g",
        'ı' => "i",
        _ => "",
    }
}

/// A pool of personal names. Entries written "display|ascii" carry their own email
/// spelling (other scripts); the rest are folded to ASCII.
pub(crate) enum NamePool {
    /// Given and family names drawn apart; `family_first` puts the family name first.
    Split { given: &'static [&'static str], family: &'static [&'static str], family_first: bool },
    /// Whole names, for languages whose family names agree with the given name's gender.
    Whole(&'static [&'static str]),
}

/// The cultures contacts come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Culture {
    English,
    German,
    French,
    Spanish,
    Portuguese,
    Polish,
    Dutch,
    Japanese,
    Chinese,
    Indian,
    Korean,
    Nigerian,
    Arabic,
    /// Japanese, written in kanji (the Japanese-named account).
    Kanji,
    /// Russian, written in Cyrillic (the Cyrillic-named account).
    Cyrillic,
}

impl Culture {
    /// The language code a contact of this culture reads surveys in, where the demo's
    /// company writes to them in something other than English.
    pub(crate) fn language(self) -> Option<&'static str> {
        match self {
            Culture::German => Some("de"),
            Culture::French => Some("fr"),
            Culture::Spanish => Some("es"),
            Culture::Portuguese => Some("pt"),
            Culture::Polish => Some("pl"),
            Culture::Dutch => Some("nl"),
            Culture::Japanese | Culture::Kanji => Some("ja"),
            Culture::Chinese => Some("zh"),
            Culture::Korean => Some("ko"),
            Culture::Cyrillic => Some("ru"),
            Culture::English | Culture::Indian | Culture::Nigerian | Culture::Arabic => None,
        }
    }
}

const CULTURES_BY_REGION: [&[(Culture, u32)]; 4] = [
    &[
        (Culture::English, 50),
        (Culture::Spanish, 14),
        (Culture::Indian, 12),
        (Culture::Chinese, 9),
        (Culture::Korean, 5),
        (Culture::Nigerian, 4),
        (Culture::Arabic, 6),
    ],
    &[
        (Culture::English, 22),
        (Culture::German, 22),
        (Culture::French, 17),
        (Culture::Dutch, 11),
        (Culture::Polish, 10),
        (Culture::Arabic, 9),
        (Culture::Nigerian, 9),
    ],
    &[
        (Culture::Japanese, 28),
        (Culture::Chinese, 28),
        (Culture::Indian, 22),
        (Culture::Korean, 12),
        (Culture::English, 10),
    ],
    &[(Culture::Spanish, 55), (Culture::Portuguese, 35), (Culture::English, 10)],
];

/// A culture drawn in proportion to who works in `region`.
pub(crate) fn culture_for(rng: &mut DemoRng, region: usize) -> Culture {
    let table = CULTURES_BY_REGION[region];
    let weights: [u32; 8] = std::array::from_fn(|i| table.get(i).map_or(0, |&(_, w)| w));
    table[weighted(rng, &weights[..table.len()])].0
}

fn pool(culture: Culture) -> NamePool {
    use NamePool::{Split, Whole};
    match culture {
        Culture::English => Split {
            given: &[
                "James", "Emily", "Michael", "Sarah", "David", "Jessica", "Robert", "Ashley", "Daniel", "Laura",
                "Kevin", "Megan", "Brian", "Rachel", "Tom", "Olivia", "Nathan", "Claire",
            ],
            family: &[
                "Smith",
                "Johnson",
                "Walker",
                "Brooks",
                "Carter",
                "Hughes",
                "Bennett",
                "Collins",
                "Reed",
                "Murphy",
                "Foster",
                "Hayes",
                "O'Connor",
                "Price",
                "Turner",
                "Ward",
                "McAllister",
                "Fitzgerald",
            ],
            family_first: false,
        },
        Culture::German => Split {
            given: &[
                "Jana", "Lukas", "Anna", "Felix", "Katrin", "Jürgen", "Sophie", "Matthias", "Lena", "Stefan", "Birgit",
                "Tobias",
            ],
            family: &[
                "Müller",
                "Schmidt",
                "Schneider",
                "Fischer",
                "Weber",
                "Becker",
                "Hoffmann",
                "Schäfer",
                "Koch",
                "Wagner",
                "Krüger",
                "Braun",
            ],
            family_first: false,
        },
        Culture::French => Split {
            given: &["Camille", "Louis", "Élodie", "Thomas", "Chloé", "Nicolas", "Amélie", "Julien", "Inès", "Mathieu"],
            family: &[
                "Dubois",
                "Lefèvre",
                "Moreau",
                "Laurent",
                "Girard",
                "Rousseau",
                "Fontaine",
                "Chevalier",
                "Mercier",
                "Blanchard",
            ],
            family_first: false,
        },
        Culture::Spanish => Split {
            given: &[
                "José",
                "María",
                "Alejandro",
                "Lucía",
                "Carlos",
                "Sofía",
                "Diego",
                "Valentina",
                "Javier",
                "Camila",
            ],
            family: &[
                "García",
                "Martínez",
                "Rodríguez",
                "López",
                "Hernández",
                "González",
                "Pérez",
                "Sánchez",
                "Ramírez",
                "Torres",
            ],
            family_first: false,
        },
        Culture::Portuguese => Split {
            given: &["João", "Ana", "Pedro", "Beatriz", "Lucas", "Fernanda", "Rafael", "Juliana"],
            family: &["Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Carvalho"],
            family_first: false,
        },
        Culture::Polish => Split {
            given: &["Łukasz", "Agnieszka", "Piotr", "Katarzyna", "Tomasz", "Magdalena"],
            family: &["Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Dudek"],
            family_first: false,
        },
        Culture::Dutch => Split {
            given: &["Sanne", "Daan", "Ingrid", "Lars", "Freya", "Mikkel", "Femke", "Søren"],
            family: &["de Vries", "Jansen", "Bakker", "Lindqvist", "Johansson", "Nielsen", "van Dijk", "Visser"],
            family_first: false,
        },
        Culture::Japanese => Split {
            given: &["Yuki", "Haruto", "Aiko", "Kenji", "Sakura", "Takeshi", "Mei", "Hiroshi"],
            family: &["Tanaka", "Suzuki", "Takahashi", "Watanabe", "Yamamoto", "Nakamura", "Kobayashi", "Sato"],
            family_first: false,
        },
        Culture::Chinese => Split {
            given: &["Wei", "Li Na", "Jun", "Xiuying", "Hao", "Mei Ling", "Chen", "Yan"],
            family: &["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao"],
            family_first: false,
        },
        Culture::Indian => Split {
            given: &["Priya", "Rahul", "Ananya", "Arjun", "Divya", "Vikram", "Sneha", "Rohan"],
            family: &["Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Menon", "Singh"],
            family_first: false,
        },
        Culture::Korean => Split {
            given: &["Ji-woo", "Min-jun", "Seo-yeon", "Hyun-woo", "Su-bin", "Do-yun"],
            family: &["Kim", "Lee", "Park", "Choi", "Jung", "Kang"],
            family_first: false,
        },
        Culture::Nigerian => Split {
            given: &["Chinedu", "Ngozi", "Oluwaseun", "Amaka", "Emeka", "Funmilayo"],
            family: &["Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu"],
            family_first: false,
        },
        Culture::Arabic => Split {
            given: &["Omar", "Layla", "Youssef", "Fatima", "Karim", "Nour"],
            family: &["Haddad", "Khalil", "Nasser", "Mansour", "Saleh", "Farouk"],
            family_first: false,
        },
        Culture::Kanji => Split {
            given: &["太郎|taro", "花子|hanako", "健一|kenichi", "美咲|misaki", "翔太|shota", "由美|yumi"],
            family: &["山田|yamada", "佐藤|sato", "鈴木|suzuki", "高橋|takahashi", "伊藤|ito", "渡辺|watanabe"],
            family_first: true,
        },
        Culture::Cyrillic => Whole(&[
            "Алексей Иванов|aleksei.ivanov",
            "Ольга Смирнова|olga.smirnova",
            "Дмитрий Кузнецов|dmitry.kuznetsov",
            "Наталья Попова|natalia.popova",
            "Сергей Волков|sergei.volkov",
            "Екатерина Соколова|ekaterina.sokolova",
            "Андрей Морозов|andrei.morozov",
            "Мария Лебедева|maria.lebedeva",
        ]),
    }
}

/// Splits a pool entry into (display, Some(ascii)) when it carries its own spelling.
fn entry(text: &'static str) -> (&'static str, Option<&'static str>) {
    match text.split_once('|') {
        Some((display, ascii)) => (display, Some(ascii)),
        None => (text, None),
    }
}

fn push_local(out: &mut String, text: &'static str) {
    match entry(text) {
        (_, Some(ascii)) => out.push_str(ascii),
        (display, None) => push_ascii_local(out, display),
    }
}

/// A person's display name and the ASCII local part of their email ("first.last").
pub(crate) fn person(rng: &mut DemoRng, culture: Culture) -> (String, String) {
    match pool(culture) {
        NamePool::Split { given, family, family_first } => {
            let g = pick(rng, given);
            let f = pick(rng, family);
            let (gd, fd) = (entry(g).0, entry(f).0);
            let name = if family_first { format!("{fd} {gd}") } else { format!("{gd} {fd}") };
            let mut local = String::with_capacity(g.len() + f.len() + 1);
            push_local(&mut local, g);
            local.push('.');
            push_local(&mut local, f);
            (name, local)
        }
        NamePool::Whole(names) => {
            let (display, ascii) = entry(pick(rng, names));
            let mut local = String::new();
            match ascii {
                Some(a) => local.push_str(a),
                None => push_ascii_local(&mut local, display),
            }
            (display.to_string(), local)
        }
    }
}

/// Job titles by level (executive, manager, user): common ones, then per vertical.
const TITLES: [&[&str]; 3] = [
    &[
        "CEO",
        "CFO",
        "COO",
        "Chief Procurement Officer",
        "VP Operations",
        "VP Procurement",
        "VP Supply Chain",
        "Managing Director",
    ],
    &[
        "Procurement Manager",
        "Operations Manager",
        "Purchasing Manager",
        "Finance Manager",
        "Vendor Manager",
        "Project Manager",
    ],
    &["Buyer", "Analyst", "Coordinator", "Accounts Payable Specialist", "Administrator"],
];

const VERTICAL_TITLES: [[&[&str]; 3]; 7] = [
    [
        &["VP Manufacturing", "Plant Director"],
        &["Plant Manager", "Quality Manager"],
        &["Plant Engineer", "Maintenance Technician"],
    ],
    [
        &["Chief Medical Officer", "VP Clinical Operations"],
        &["Pharmacy Manager", "Lab Manager"],
        &["Nurse Coordinator", "Lab Technician"],
    ],
    [&["Chief Risk Officer", "CIO"], &["IT Manager", "Compliance Manager"], &["Operations Analyst", "Risk Analyst"]],
    [
        &["VP Merchandising", "Chief Merchandising Officer"],
        &["Category Manager", "Store Operations Manager"],
        &["Merchandiser", "Store Associate"],
    ],
    [
        &["VP Network Operations", "Director of Fleet"],
        &["Fleet Manager", "Warehouse Manager"],
        &["Dispatcher", "Warehouse Supervisor"],
    ],
    [
        &["VP Generation", "VP Asset Management"],
        &["Maintenance Manager", "HSE Manager"],
        &["Field Technician", "Control Room Operator"],
    ],
    [
        &["CTO", "VP Engineering"],
        &["Engineering Manager", "IT Operations Manager"],
        &["Developer", "Systems Administrator"],
    ],
];

/// A job title for someone at `level` (0 executive, 1 manager, 2 user) in `vertical`.
pub(crate) fn title(rng: &mut DemoRng, vertical: usize, level: usize) -> &'static str {
    if rng.gen_bool(0.5) { pick(rng, VERTICAL_TITLES[vertical][level]) } else { pick(rng, TITLES[level]) }
}

/// How many numbering plans (countries) `phone` knows in each region (`REGIONS` order).
pub(crate) const PHONE_PLANS: [usize; 4] = [1, 4, 4, 3];

/// The Russian numbering plan (outside `REGIONS`), for the Cyrillic-named account.
pub(crate) const RUSSIAN_PHONES: (usize, usize) = (4, 0);

/// A phone number of one of the region's numbering plans (`plan` < `PHONE_PLANS[region]`);
/// an account's contacts share one plan, the country of its office.
pub(crate) fn phone(rng: &mut DemoRng, region: usize, plan: usize) -> String {
    let a = rng.gen_range(0..10_000u32);
    let b = rng.gen_range(0..10_000u32);
    match (region, plan) {
        (0, _) => format!("+1 {}-555-{a:04}", pick(rng, &[212, 312, 415, 617, 713, 206, 404, 303])),
        (1, 0) => format!("+44 20 7946 {a:04}"),
        (1, 1) => format!("+49 30 {a:04}{b:04}"),
        (1, 2) => format!("+33 1 {:02} {:02} {:02} {:02}", a / 100, a % 100, b / 100, b % 100),
        (1, _) => format!("+31 20 {:03} {b:04}", a % 1000),
        (2, 0) => format!("+81 3-{a:04}-{b:04}"),
        (2, 1) => format!("+65 {:04} {b:04}", 6000 + a % 4000),
        (2, 2) => format!("+61 2 {a:04} {b:04}"),
        (2, _) => format!("+91 22 {a:04} {b:04}"),
        (3, 0) => format!("+52 55 {a:04} {b:04}"),
        (3, 1) => format!("+55 11 9{a:04}-{b:04}"),
        (3, _) => format!("+57 601 {:03} {b:04}", a % 1000),
        (_, _) => format!("+7 495 {:03}-{:02}-{:02}", a % 1000, b / 100, b % 100),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_locals_are_ascii() {
        let mut s = String::new();
        push_slug(&mut s, "Home & Garden");
        assert_eq!(s, "home-garden");
        let mut l = String::new();
        push_ascii_local(&mut l, "O'Connor");
        push_ascii_local(&mut l, " Łukasz-Müller");
        assert_eq!(l, "oconnorlukasz-mueller");
    }
}
