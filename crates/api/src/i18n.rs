//! The message catalogue: every problem's title and detail and every rule's message, in
//! English and Welsh, in Project Fluent's syntax (`crates/api/locales/{en,cy}/main.ftl`).
//! Stable `code`s and field names never change with the language; only the words do.
//!
//! Ids: `problem-{code}-title` and `problem-{code}` (the detail), `problem-{code}--{case}` for
//! a code whose detail differs from case to case, and `violation-{code}` for a broken rule.
//! Values inside a text are Fluent variables (`{ $seconds }`). The Welsh is a working draft:
//! the organisation's Welsh language officer reviews it before go-live (docs/WELSH.md).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;

/// A language the service answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// English, the default.
    En,
    /// Welsh (Cymraeg).
    Cy,
}

impl Language {
    /// Every language, English first.
    pub const ALL: [Self; 2] = [Self::En, Self::Cy];

    /// The BCP 47 tag: `en` or `cy`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Cy => "cy",
        }
    }

    /// The catalogue's source text in this language.
    fn source(self) -> &'static str {
        match self {
            Self::En => include_str!("../locales/en/main.ftl"),
            Self::Cy => include_str!("../locales/cy/main.ftl"),
        }
    }

    /// This language's catalogue, read once. The files are part of the binary and a test
    /// reads both without error, so failing here is a build that never passed its tests.
    pub fn catalogue(self) -> &'static Catalogue {
        static EN: OnceLock<Catalogue> = OnceLock::new();
        static CY: OnceLock<Catalogue> = OnceLock::new();
        let cell = match self {
            Self::En => &EN,
            Self::Cy => &CY,
        };
        cell.get_or_init(|| {
            Catalogue::parse(self).unwrap_or_else(|e| panic!("the {} catalogue: {e}", self.tag()))
        })
    }
}

/// The language of a request's `Accept-Language` (RFC 9110 §12.5.4): the supported language
/// of the highest weight, the earlier on a tie; English when none is acceptable or there is no
/// header. `cy`, `cy-GB` and `CY` are Welsh; `*` is any, so English.
pub fn negotiate(accept_language: Option<&str>) -> Language {
    let mut best: Option<(Language, u16)> = None;
    for range in accept_language.unwrap_or_default().split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .next()
            .map_or(Some(1000), weight_in_thousandths);
        let Some(weight) = weight.filter(|w| *w > 0) else {
            continue;
        };
        let primary = tag.split('-').next().unwrap_or_default();
        let language = match primary {
            "cy" => Language::Cy,
            "en" | "*" => Language::En,
            _ => continue,
        };
        if best.is_none_or(|(_, w)| weight > w) {
            best = Some((language, weight));
        }
    }
    best.map_or(Language::En, |(language, _)| language)
}

/// A `q` value as thousandths (`0.8` → 800), or `None` when it is not one.
fn weight_in_thousandths(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

/// A value inside a message: printed as it is, or a number that the message may select on
/// (plural forms, status codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Printed as it is (numbers that are only printed too, so no digit grouping is added).
    Text(String),
    /// Selected on.
    Number(i64),
}

/// A message of the catalogue with its values: the words of one problem or rule, in any
/// language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    id: String,
    args: Vec<(&'static str, Arg)>,
}

impl Message {
    /// Message `id` with `args`.
    pub fn new(id: impl Into<String>, args: Vec<(&'static str, Arg)>) -> Self {
        Self {
            id: id.into(),
            args,
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its words in `language`, or `None` when the catalogue lacks it (a bug the catalogue's
    /// tests are there to catch).
    pub fn text(&self, language: Language) -> Option<String> {
        let mut args = FluentArgs::new();
        for (name, value) in &self.args {
            match value {
                Arg::Text(text) => args.set(*name, text.clone()),
                Arg::Number(n) => args.set(*name, *n),
            }
        }
        language.catalogue().text(&self.id, &args)
    }
}

/// The messages of one language.
pub struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    /// Each message's variables, by id.
    variables: BTreeMap<String, BTreeSet<String>>,
}

impl Catalogue {
    fn parse(language: Language) -> Result<Self, String> {
        let resource = FluentResource::try_new(language.source().to_owned())
            .map_err(|(_, errors)| format!("{errors:?}"))?;
        let variables = resource
            .entries()
            .filter_map(|entry| match entry {
                ast::Entry::Message(message) => Some((
                    message.id.name.to_owned(),
                    message.value.as_ref().map(variables_of).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect();
        let tag: unic_langid::LanguageIdentifier = language
            .tag()
            .parse()
            .map_err(|e| format!("language tag: {e}"))?;
        let mut bundle = FluentBundle::new_concurrent(vec![tag]);
        // Unicode isolation marks around values would reach clients as invisible characters.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|errors| format!("{errors:?}"))?;
        Ok(Self { bundle, variables })
    }

    /// Whether message `id` exists.
    pub fn has(&self, id: &str) -> bool {
        self.variables.contains_key(id)
    }

    /// Every message id, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// The variables message `id` uses.
    pub fn variables(&self, id: &str) -> Option<&BTreeSet<String>> {
        self.variables.get(id)
    }

    /// Message `id` with `args`, or `None` when there is no such message or an argument is
    /// missing.
    pub fn text(&self, id: &str, args: &FluentArgs<'_>) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, Some(args), &mut errors);
        errors.is_empty().then(|| text.into_owned())
    }
}

/// The variables a pattern uses, in its placeables and in every variant of its selections.
fn variables_of(pattern: &ast::Pattern<&str>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            collect_expression(expression, &mut found);
        }
    }
    found
}

fn collect_expression(expression: &ast::Expression<&str>, found: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            collect_inline(selector, found);
            for variant in variants {
                found.extend(variables_of(&variant.value));
            }
        }
        ast::Expression::Inline(inline) => collect_inline(inline, found),
    }
}

fn collect_inline(inline: &ast::InlineExpression<&str>, found: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            found.insert(id.name.to_owned());
        }
        ast::InlineExpression::Placeable { expression } => collect_expression(expression, found),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments for every variable of `id`: numbers where a text selects on them.
    fn sample_args(catalogue: &Catalogue, id: &str) -> FluentArgs<'static> {
        let mut args = FluentArgs::new();
        for name in catalogue.variables(id).into_iter().flatten() {
            match name.as_str() {
                "status_code" => args.set(name.clone(), 500),
                "history_depth" => args.set(name.clone(), 4),
                _ => args.set(name.clone(), format!("<{name}>")),
            }
        }
        args
    }

    #[test]
    fn the_best_supported_language_of_accept_language_is_chosen() {
        for (header, expected) in [
            (None, Language::En),
            (Some(""), Language::En),
            (Some("cy"), Language::Cy),
            (Some("cy-GB"), Language::Cy),
            (Some("CY-gb"), Language::Cy),
            (Some("en-GB,en;q=0.9"), Language::En),
            (Some("cy-GB, en;q=0.8"), Language::Cy),
            (Some("en;q=0.5, cy;q=0.9"), Language::Cy),
            (Some("fr, cy;q=0.1"), Language::Cy),
            (Some("fr, de"), Language::En),
            (Some("cy;q=0, en"), Language::En),
            (Some("cy;q=0"), Language::En),
            (Some("en, cy"), Language::En),
            (Some("cy, en"), Language::Cy),
            (Some("*"), Language::En),
            (Some("cy;q=1.5"), Language::En),
            (Some("cy;q=nonsense"), Language::En),
            (Some("cy ; q=0.7 , en;q=0.6"), Language::Cy),
        ] {
            assert_eq!(negotiate(header), expected, "{header:?}");
        }
    }

    #[test]
    fn both_catalogues_read_and_hold_the_same_messages_with_the_same_values() {
        let en = Language::En.catalogue();
        let cy = Language::Cy.catalogue();
        let en_ids: Vec<&str> = en.ids().collect();
        let cy_ids: Vec<&str> = cy.ids().collect();
        assert_eq!(en_ids, cy_ids, "the same ids in both languages");
        assert!(en_ids.len() > 300, "{} messages", en_ids.len());
        for id in en_ids {
            assert_eq!(en.variables(id), cy.variables(id), "the variables of {id}");
            for catalogue in [en, cy] {
                assert!(
                    catalogue.text(id, &sample_args(catalogue, id)).is_some(),
                    "{id} formats"
                );
            }
        }
    }

    /// A Welsh text that is the English one would be English given silently as Welsh.
    #[test]
    fn no_welsh_message_is_the_english_one() {
        let en = Language::En.catalogue();
        let cy = Language::Cy.catalogue();
        let same: Vec<&str> = en
            .ids()
            .filter(|id| {
                let args = sample_args(en, id);
                en.text(id, &args) == cy.text(id, &args)
            })
            .collect();
        assert!(
            same.is_empty(),
            "the same words in both languages: {same:?}"
        );
    }

    /// Every problem code the API documents has a title and a detail in both languages.
    #[test]
    fn every_problem_code_has_english_and_welsh_words() {
        let index = crate::problem::ProblemIndex::of(&crate::openapi::document());
        for language in Language::ALL {
            let catalogue = language.catalogue();
            let ids: BTreeSet<&str> = catalogue.ids().collect();
            let missing: Vec<String> = index
                .codes()
                .into_iter()
                .filter(|code| {
                    !ids.contains(format!("problem-{code}-title").as_str())
                        || !ids.contains(format!("problem-{code}").as_str())
                })
                .collect();
            assert!(missing.is_empty(), "{}: {missing:?}", language.tag());
        }
    }

    /// Until every answer takes its words from the catalogue, the English catalogue must say
    /// what the code says: each documented problem's title is its code's title or one of the
    /// code's case titles.
    #[test]
    fn the_english_titles_are_the_ones_the_api_gives() {
        let en = Language::En.catalogue();
        let index = crate::problem::ProblemIndex::of(&crate::openapi::document());
        for (code, problem) in index.iter() {
            let titles: Vec<String> = en
                .ids()
                .filter(|id| {
                    *id == format!("problem-{code}-title")
                        || (id.starts_with(&format!("problem-{code}--")) && id.ends_with("-title"))
                })
                .filter_map(|id| en.text(id, &sample_args(en, id)))
                .collect();
            let fixed_title = !titles.iter().any(|t| t.contains('<'));
            assert!(
                !fixed_title || titles.contains(&problem.title),
                "{code}: {:?} not among {titles:?}",
                problem.title
            );
        }
    }
}
