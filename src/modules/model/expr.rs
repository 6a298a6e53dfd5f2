//! Class arguments in a description: substitution and the small integer arithmetic of
//! `"$hidden * 4"`.
//!
//! Inside a described class's body, a JSON string that contains `$` stands for a value computed
//! from the class's arguments:
//!
//! * `"$name"` alone is the argument's value, whatever its JSON type (an int, a float, a bool, a
//!   string, a list, `null`, a module object);
//! * anything else is an integer expression: integer literals and `$name`s whose values are
//!   integers, combined with `+`, `-`, `*`, `//` (Python's floor division) and parentheses, with
//!   Python's precedence (`"$hidden * 4"`, `"4 * ($d + 1)"`). Arithmetic is on 64-bit integers
//!   and an overflow is an error.
//!
//! There is no other syntax: no floats in arithmetic, no comparisons, no function calls.

use serde_json::{Map, Number, Value};

/// The arguments of one class use, in declaration order.
pub(super) type Args = [(String, Value)];

/// The deepest JSON nesting substitution walks (serde_json's own parser stops at 128).
const MAX_JSON_DEPTH: usize = 128;

/// The deepest parentheses an expression may nest.
const MAX_PARENS: usize = 32;

/// Replaces every string with a `$` in `v` by its value under `args`. `work` counts the JSON values
/// visited (the caller bounds it).
///
/// # Errors
/// A message naming the expression: an unknown argument, a non-integer in arithmetic, an
/// overflow, a malformed expression, JSON nested too deeply.
pub(super) fn substitute(v: &Value, args: &Args, work: &mut u64) -> Result<Value, String> {
    walk(v, args, work, 0)
}

fn walk(v: &Value, args: &Args, work: &mut u64, depth: usize) -> Result<Value, String> {
    *work = work.saturating_add(1);
    if depth > MAX_JSON_DEPTH {
        return Err(format!(
            "JSON nested more than {MAX_JSON_DEPTH} levels deep"
        ));
    }
    Ok(match v {
        Value::String(s) if s.contains('$') => value_of(s, args)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|x| walk(x, args, work, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, x) in m {
                out.insert(k.clone(), walk(x, args, work, depth + 1)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// The value of one `$` string.
fn value_of(text: &str, args: &Args) -> Result<Value, String> {
    let whole = text.trim();
    if let Some(name) = whole.strip_prefix('$').filter(|n| is_ident(n)) {
        return lookup(name, args)
            .cloned()
            .ok_or_else(|| unknown(name, args));
    }
    let mut p = Parser {
        text,
        pos: 0,
        args,
        parens: 0,
    };
    let v = p.sum()?;
    p.skip_space();
    if p.pos != text.len() {
        return Err(format!(
            "'{text}': unexpected '{}' at character {}",
            &text[p.pos..],
            p.pos
        ));
    }
    Ok(Value::Number(Number::from(v)))
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn lookup<'a>(name: &str, args: &'a Args) -> Option<&'a Value> {
    args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn unknown(name: &str, args: &Args) -> String {
    if args.is_empty() {
        format!("'${name}': no class argument is in scope here (only a described class's body may use '$')")
    } else {
        let names: Vec<&str> = args.iter().map(|(n, _)| n.as_str()).collect();
        format!(
            "'${name}': no argument '{name}' (the class takes {})",
            names.join(", ")
        )
    }
}

/// A recursive-descent reader of `sum := product (('+' | '-') product)*`,
/// `product := atom (('*' | '//') atom)*`, `atom := INT | '$'NAME | '-' atom | '(' sum ')'`.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    args: &'a Args,
    parens: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn overflow(&self) -> String {
        format!("'{}': the result does not fit in int64", self.text)
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat("+") {
                let r = self.product()?;
                v = v.checked_add(r).ok_or_else(|| self.overflow())?;
            } else if self.eat("-") {
                let r = self.product()?;
                v = v.checked_sub(r).ok_or_else(|| self.overflow())?;
            } else {
                return Ok(v);
            }
        }
    }

    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.atom()?;
        loop {
            if self.eat("//") {
                let r = self.atom()?;
                if r == 0 {
                    return Err(format!("'{}': integer division by zero", self.text));
                }
                // Python's floor division.
                let q = v.checked_div(r).ok_or_else(|| self.overflow())?;
                v = if (v % r != 0) && ((v < 0) != (r < 0)) {
                    q - 1
                } else {
                    q
                };
            } else if self.eat("*") {
                let r = self.atom()?;
                v = v.checked_mul(r).ok_or_else(|| self.overflow())?;
            } else {
                return Ok(v);
            }
        }
    }

    fn atom(&mut self) -> Result<i64, String> {
        self.skip_space();
        let rest = &self.text[self.pos..];
        if self.eat("(") {
            self.parens += 1;
            if self.parens > MAX_PARENS {
                return Err(format!(
                    "'{}': parentheses nested more than {MAX_PARENS} deep",
                    self.text
                ));
            }
            let v = self.sum()?;
            if !self.eat(")") {
                return Err(format!("'{}': missing ')'", self.text));
            }
            self.parens -= 1;
            return Ok(v);
        }
        if self.eat("-") {
            let v = self.atom()?;
            return v.checked_neg().ok_or_else(|| self.overflow());
        }
        if let Some(after) = rest.strip_prefix('$') {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            if !is_ident(name) {
                return Err(format!(
                    "'{}': '$' must be followed by an argument name",
                    self.text
                ));
            }
            self.pos += 1 + len;
            let v = lookup(name, self.args).ok_or_else(|| unknown(name, self.args))?;
            return match v {
                Value::Number(n)
                    if n.as_i64().is_some() && !n.to_string().contains(['.', 'e', 'E']) =>
                {
                    Ok(n.as_i64().unwrap_or_default())
                }
                other => Err(format!(
                    "'{}': '${name}' is {other}, not an integer (arithmetic is on integers only)",
                    self.text
                )),
            };
        }
        let len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(format!(
                "'{}': expected a number, '$name' or '(' at character {}",
                self.text, self.pos
            ));
        }
        self.pos += len;
        rest[..len]
            .parse::<i64>()
            .map_err(|_| format!("'{}': {} does not fit in int64", self.text, &rest[..len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args() -> Vec<(String, Value)> {
        vec![
            ("hidden".into(), json!(32)),
            ("heads".into(), json!(2)),
            ("std".into(), json!(0.02)),
            ("bias".into(), json!(false)),
            ("big".into(), json!(4_611_686_018_427_387_904_i64)),
        ]
    }

    #[allow(clippy::needless_pass_by_value)] // called with json! literals
    fn eval(v: Value) -> Result<Value, String> {
        substitute(&v, &args(), &mut 0)
    }

    #[test]
    fn values_and_arithmetic() {
        assert_eq!(eval(json!("$std")).unwrap(), json!(0.02));
        assert_eq!(eval(json!("$bias")).unwrap(), json!(false));
        assert_eq!(eval(json!("$hidden * 4")).unwrap(), json!(128));
        assert_eq!(eval(json!("$hidden * 3 + 1")).unwrap(), json!(97));
        assert_eq!(eval(json!("($hidden + 1) * 3")).unwrap(), json!(99));
        assert_eq!(eval(json!("$hidden // $heads")).unwrap(), json!(16));
        assert_eq!(eval(json!("-7 * $heads // 4")).unwrap(), json!(-4));
        assert_eq!(eval(json!("$hidden - 40")).unwrap(), json!(-8));
        assert_eq!(
            eval(json!({"size": [1, "$hidden", "$heads * 2"], "keep": "same"})).unwrap(),
            json!({"size": [1, 32, 4], "keep": "same"})
        );
    }

    #[test]
    fn errors_name_the_expression() {
        let e = eval(json!("$hiden")).unwrap_err();
        assert!(
            e.contains("no argument 'hiden'") && e.contains("hidden, heads"),
            "{e}"
        );
        let e = eval(json!("$std * 2")).unwrap_err();
        assert!(e.contains("not an integer"), "{e}");
        let e = eval(json!("$big * 4")).unwrap_err();
        assert!(e.contains("does not fit in int64"), "{e}");
        let e = eval(json!("$hidden // 0")).unwrap_err();
        assert!(e.contains("division by zero"), "{e}");
        let e = eval(json!("$hidden ** 2")).unwrap_err();
        assert!(e.contains("expected a number"), "{e}");
        let e = eval(json!("($hidden")).unwrap_err();
        assert!(e.contains("missing ')'"), "{e}");
        let e = eval(json!("$hidden 2")).unwrap_err();
        assert!(e.contains("unexpected '2'"), "{e}");
        assert_eq!(eval(json!("4 * ($heads + 1)")).unwrap(), json!(12));
        let deep = format!("{}$hidden{}", "(".repeat(40), ")".repeat(40));
        assert!(eval(json!(deep)).unwrap_err().contains("nested"));
        let e = substitute(&json!("$x"), &[], &mut 0).unwrap_err();
        assert!(e.contains("no class argument is in scope"), "{e}");
    }
}
