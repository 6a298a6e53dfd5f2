//! The init steps of a description: `module.apply(fn)` rules, `named_parameters()` selections,
//! ties and a module's own `then` calls, with PyTorch's semantics of one shared tensor.
//!
//! A tie makes a parameter name an alias of another parameter's tensor ([`Ties`]): every later
//! step that reaches the name (an `apply` rule visiting the module, a `then` call) draws into the
//! one shared tensor, and `named_parameters()` yields it once, under the first name, as PyTorch's
//! `remove_duplicate` does. The aliased names get a copy of their tensor when the build ends.
//!
//! Strict by default: an `apply` rule none of whose classes matches a module, a rule parameter
//! that no matched module has, a selection that matches no parameter, a `then` or `on` naming
//! nothing is an error naming the place, before anything of that step is drawn.

use std::collections::{BTreeMap, HashSet};

use super::build::{join, module_at, module_at_mut, State};
use super::{bad, Pass, Rule, Step, Then};
use crate::error::Result;
use crate::modules::build::{Builder, ParamInit};
use crate::modules::{zero_row, Module};
use crate::tensor::Tensor;

/// Parameter names that are aliases of another parameter's tensor: alias → owner (the full
/// dotted name whose slot holds the tensor).
#[derive(Debug, Default)]
pub(super) struct Ties {
    alias: BTreeMap<String, String>,
}

impl Ties {
    /// The name whose slot holds `name`'s tensor.
    pub(super) fn owner<'a>(&'a self, name: &'a str) -> &'a str {
        self.alias.get(name).map_or(name, String::as_str)
    }

    pub(super) fn is_alias(&self, name: &str) -> bool {
        self.alias.contains_key(name)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.alias.is_empty()
    }
}

/// Where a parameter lives: the module (child indices from the root) and its index there.
type Slot = (Vec<usize>, usize);

/// The slot of the parameter with the dotted name `name` (from the root).
fn locate(root: &Module, name: &str) -> Option<Slot> {
    let (path, attr) = name.rsplit_once('.').unwrap_or(("", name));
    let mut m = root;
    let mut idx = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let i = m.children.iter().position(|(n, _)| n == part)?;
        idx.push(i);
        m = &m.children[i].1;
    }
    let p = m.params.iter().position(|(n, _)| n == attr)?;
    Some((idx, p))
}

fn tensor_mut<'a>(root: &'a mut Module, slot: &Slot) -> &'a mut Tensor {
    &mut module_at_mut(root, &slot.0).params[slot.1].1
}

/// Whether `isinstance(module, nn.<class>)` holds for a module of class `module_class`.
fn instance_of(module_class: &str, class: &str) -> bool {
    module_class == class
        || class == "Module"
        || (class == "Linear" && module_class == "NonDynamicallyQuantizableLinear")
}

/// Runs an init call on the parameter `full` (resolved through the ties), reported to the
/// builder as `report` (relative to its scope).
fn init(
    st: &mut State<'_, '_>,
    b: &mut Builder<'_>,
    full: &str,
    report: &str,
    how: &ParamInit,
) -> Result<bool> {
    let owner = st.ties.owner(full).to_string();
    let Some(slot) = locate(&st.root, &owner) else {
        return Ok(false);
    };
    b.init_param(report, tensor_mut(&mut st.root, &slot), how)?;
    st.empties.remove(&owner);
    Ok(true)
}

/// Runs one step on the module at `path` (dotted name `full`; `rel` is its name relative to the
/// builder's scope, empty for the module the step stands in).
pub(super) fn run(
    st: &mut State<'_, '_>,
    b: &mut Builder<'_>,
    path: &[usize],
    full: &str,
    rel: &str,
    step: &Step,
) -> Result<()> {
    match &step.pass {
        Pass::Tie { name, to } => tie(
            st,
            b,
            (&join(full, name), &join(full, to)),
            &join(rel, name),
            &step.at,
        ),
        Pass::Apply(rules) => apply(st, b, path, full, rel, rules),
        Pass::Calls(calls) => {
            for (param, _) in calls {
                if locate(&st.root, st.ties.owner(&join(full, param))).is_none() {
                    return Err(bad(
                        &format!("{}.init.{param}", step.at),
                        format!(
                            "no parameter '{param}' in {}",
                            if full.is_empty() { "the model" } else { full }
                        ),
                    ));
                }
            }
            for (param, call) in calls {
                let how = ParamInit::new(call.clone());
                init(st, b, &join(full, param), &join(rel, param), &how)?;
            }
            Ok(())
        }
        Pass::Parameters {
            name,
            endswith,
            min_dim,
            init: call,
        } => {
            // named_parameters(): own parameters, then each child's, each shared tensor once.
            let mut hits = Vec::new();
            let mut seen = HashSet::new();
            let mut stack: Vec<(Vec<usize>, String)> = vec![(path.to_vec(), String::new())];
            while let Some((p, prefix)) = stack.pop() {
                let m = module_at(&st.root, &p);
                for (pn, _) in &m.params {
                    let local = join(&prefix, pn);
                    let owner = st.ties.owner(&join(full, &local)).to_string();
                    if !seen.insert(owner.clone()) {
                        continue;
                    }
                    let ndim = locate(&st.root, &owner)
                        .map_or(0, |s| module_at(&st.root, &s.0).params[s.1].1.shape().len());
                    let hit = name.as_ref().is_none_or(|n| *n == local)
                        && endswith
                            .as_ref()
                            .is_none_or(|e| local.ends_with(e.as_str()))
                        && min_dim.is_none_or(|d| ndim as i64 >= d);
                    if hit {
                        hits.push(local);
                    }
                }
                // Children in registration order: pushed in reverse onto the stack.
                for (i, (cn, _)) in m.children.iter().enumerate().rev() {
                    let mut q = p.clone();
                    q.push(i);
                    stack.push((q, join(&prefix, cn)));
                }
            }
            if hits.is_empty() {
                return Err(bad(
                    &step.at,
                    format!(
                        "named_parameters: the selection matches no parameter of {}",
                        if full.is_empty() { "the model" } else { full }
                    ),
                ));
            }
            let how = ParamInit::new(call.clone());
            for local in hits {
                init(st, b, &join(full, &local), &join(rel, &local), &how)?;
            }
            Ok(())
        }
    }
}

/// A module visited by `apply`: its full and reported names, its class.
struct Visit {
    full: String,
    report: String,
    class: String,
    padding_idx: Option<usize>,
}

/// `module.apply(fn)` on the module at `path`: children first (post-order), each module taking
/// the first rule whose class matches it.
fn apply(
    st: &mut State<'_, '_>,
    b: &mut Builder<'_>,
    path: &[usize],
    full: &str,
    rel: &str,
    rules: &[Rule],
) -> Result<()> {
    // The post-order walk, iteratively: (path, full, report, children visited).
    let mut visits = Vec::new();
    let mut stack: Vec<(Vec<usize>, String, String, bool)> =
        vec![(path.to_vec(), full.to_string(), rel.to_string(), false)];
    while let Some((p, f, r, expanded)) = stack.pop() {
        let m = module_at(&st.root, &p);
        if expanded {
            visits.push(Visit {
                class: m.class.clone(),
                padding_idx: m.padding_idx,
                full: f,
                report: r,
            });
            continue;
        }
        let children: Vec<(usize, String)> = m
            .children
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (i, n.clone()))
            .collect();
        stack.push((p.clone(), f.clone(), r.clone(), true));
        for (i, n) in children.into_iter().rev() {
            let mut q = p.clone();
            q.push(i);
            stack.push((q, join(&f, &n), join(&r, &n), false));
        }
    }
    let scope = if full.is_empty() { "the model" } else { full };
    // Which rule each module takes, and the checks, before anything is drawn.
    let mut chosen = Vec::with_capacity(visits.len());
    let mut class_seen = vec![Vec::new(); rules.len()];
    for (ri, r) in rules.iter().enumerate() {
        class_seen[ri] = vec![false; r.classes.len()];
    }
    for v in &visits {
        let mut pick = None;
        for (ri, r) in rules.iter().enumerate() {
            for (ci, c) in r.classes.iter().enumerate() {
                if instance_of(&v.class, c) {
                    class_seen[ri][ci] = true;
                    pick = pick.or(Some(ri));
                }
            }
        }
        chosen.push(pick);
    }
    for (ri, r) in rules.iter().enumerate() {
        // A rule's classes are an isinstance tuple, `(nn.BatchNorm2d, nn.GroupNorm)`: the rule
        // must match something (each name is a known class: the reader checked).
        if !class_seen[ri].iter().any(|s| *s) {
            return Err(bad(
                &r.at,
                format!("{} matches no module in {scope}", r.classes.join(", ")),
            ));
        }
        for (pname, _) in &r.inits {
            let found = visits.iter().zip(&chosen).any(|(v, c)| {
                *c == Some(ri) && locate(&st.root, st.ties.owner(&join(&v.full, pname))).is_some()
            });
            if !found {
                return Err(bad(
                    &format!("{}.init.{pname}", r.at),
                    format!(
                        "no module this rule matches in {scope} has a parameter '{pname}' (rule \
                         for {})",
                        r.classes.join(", ")
                    ),
                ));
            }
        }
    }
    for (v, c) in visits.iter().zip(&chosen) {
        let Some(ri) = c else { continue };
        let rule = &rules[*ri];
        for (pname, call) in &rule.inits {
            let how = ParamInit::new(call.clone());
            init(st, b, &join(&v.full, pname), &join(&v.report, pname), &how)?;
        }
        if rule.zero_padding_idx {
            if let Some(row) = v.padding_idx {
                let name = join(&v.full, "weight");
                let owner = st.ties.owner(&name).to_string();
                if let Some(slot) = locate(&st.root, &owner) {
                    let w = tensor_mut(&mut st.root, &slot);
                    zero_row(w, row);
                    b.note(
                        &join(&v.report, "weight"),
                        w,
                        &format!("weight[{row}].zero_() (the apply rule's zero_padding_idx)"),
                        &format!("row {row} set to zeros"),
                        Some(0),
                    );
                }
            }
        }
    }
    Ok(())
}

/// A `then` call of the module at `path` (dotted name `full`, reported as `name`).
pub(super) fn then(
    st: &mut State<'_, '_>,
    b: &mut Builder<'_>,
    path: &[usize],
    full: &str,
    name: &str,
    t: &Then,
) -> Result<()> {
    let how = ParamInit::new(t.call.clone());
    if init(st, b, &join(full, &t.param), &join(name, &t.param), &how)? {
        return Ok(());
    }
    let class = module_at(&st.root, path).class.clone();
    Err(bad(
        &t.at,
        format!(
            "the {class} at '{}' has no parameter '{}'",
            if full.is_empty() { "the model" } else { full },
            t.param
        ),
    ))
}

/// A tie: from now on the parameter `name` is the tensor of `to` (`parent.attr =
/// model.get_parameter(to)`); both names stay in the `state_dict`.
fn tie(
    st: &mut State<'_, '_>,
    b: &mut Builder<'_>,
    (name, to): (&str, &str),
    report: &str,
    at: &str,
) -> Result<()> {
    let missing = |n: &str| bad(at, format!("tie: no parameter '{n}' in the model"));
    if locate(&st.root, name).is_none() {
        return Err(missing(name));
    }
    let target = st.ties.owner(to).to_string();
    let Some(tslot) = locate(&st.root, &target) else {
        return Err(missing(to));
    };
    if st.ties.owner(name) == target {
        return Ok(()); // already one tensor
    }
    // Names that shared `name`'s tensor keep it: the first of them takes it over.
    let sharing: Vec<String> = st
        .ties
        .alias
        .iter()
        .filter(|(_, o)| o.as_str() == name)
        .map(|(a, _)| a.clone())
        .collect();
    if let Some((heir, rest)) = sharing.split_first() {
        if let (Some(from), Some(into)) = (locate(&st.root, name), locate(&st.root, heir)) {
            let t = tensor_mut(&mut st.root, &from).clone();
            *tensor_mut(&mut st.root, &into) = t;
        }
        st.ties.alias.remove(heir);
        for a in rest {
            st.ties.alias.insert(a.clone(), heir.clone());
        }
        if st.empties.remove(name) {
            st.empties.insert(heir.clone());
        }
    }
    st.ties.alias.insert(name.to_string(), target.clone());
    let t = &module_at(&st.root, &tslot.0).params[tslot.1].1;
    b.note(
        report,
        t,
        &format!("{name} = {to} (tied: one tensor under both names)"),
        &format!("from here on the tensor of {target}"),
        Some(0),
    );
    Ok(())
}

/// Gives every aliased name a copy of its tensor (the `state_dict` lists both names).
pub(super) fn fill_ties(st: &mut State<'_, '_>) -> Result<()> {
    let pairs: Vec<(String, String)> = st
        .ties
        .alias
        .iter()
        .map(|(a, o)| (a.clone(), o.clone()))
        .collect();
    for (alias, owner) in pairs {
        let (Some(from), Some(into)) = (locate(&st.root, &owner), locate(&st.root, &alias)) else {
            return Err(bad(
                "model",
                format!("tie: '{alias}' or '{owner}' disappeared"),
            ));
        };
        let t = tensor_mut(&mut st.root, &from).clone();
        *tensor_mut(&mut st.root, &into) = t;
    }
    Ok(())
}
