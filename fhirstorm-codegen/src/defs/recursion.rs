//! Which fields are boxed: those that close a containment cycle.

use std::collections::HashMap;

use crate::ir::*;

/// Boxes the single-valued fields that close a containment cycle (prost's message graph idea):
/// a field is boxed when its type lies in the same strongly connected component as its owner.
pub(super) fn mark_boxes(model: &mut Model) {
    let index: HashMap<&str, usize> = model.structs.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let edges: Vec<Vec<usize>> = model
        .structs
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| !f.many)
                .filter_map(|f| match &f.ty {
                    Ty::Struct(n) => index.get(n.as_str()).copied(),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let comp = tarjan(&edges);
    let comps: Vec<usize> = comp;
    let names: Vec<String> = model.structs.iter().map(|s| s.name.clone()).collect();
    for (i, st) in model.structs.iter_mut().enumerate() {
        for f in st.fields.iter_mut().filter(|f| !f.many) {
            if let Ty::Struct(n) = &f.ty {
                if let Some(&j) = names.iter().position(|x| x == n).as_ref() {
                    f.boxed = comps[i] == comps[j];
                }
            }
        }
    }
}

/// Strongly connected components: the component number of each node.
fn tarjan(edges: &[Vec<usize>]) -> Vec<usize> {
    struct T<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        comp: Vec<usize>,
        next: usize,
        ncomp: usize,
    }
    impl T<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    _ => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    self.comp[w] = self.ncomp;
                    if w == v {
                        break;
                    }
                }
                self.ncomp += 1;
            }
        }
    }
    let n = edges.len();
    let mut t = T {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        comp: vec![0; n],
        next: 0,
        ncomp: 0,
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.comp
}
