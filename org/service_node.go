package org

import (
	"context"
	"fmt"
)

// CreateNode adds a node below in.Parent (a centre has none) after
// checking fields and the tier rule. The actor needs the policy's consent
// for ActCreateNode on the parent (a root: Target.Node empty, which the
// DefaultPolicy grants only to RoleSystem). Errors: ErrInvalid, ErrTier,
// ErrNotFound (parent), ErrRetired (parent), ErrDuplicate (ID),
// ErrForbidden.
func (s *Service) CreateNode(ctx context.Context, a Actor, in NewNode) (Node, error) {
	if err := in.Validate(); err != nil {
		return Node{}, fmt.Errorf("org: create node: %w", err)
	}
	if err := s.authorize(ctx, a, ActCreateNode, Target{Node: in.Parent}); err != nil {
		return Node{}, err
	}
	parentPath := ""
	if in.Parent != "" {
		p, err := s.store.Node(ctx, in.Parent)
		if err != nil {
			return Node{}, fmt.Errorf("org: create node %q: field parent: %w", in.ID, err)
		}
		if err := CheckParent(in.Kind, p.Kind); err != nil {
			return Node{}, fmt.Errorf("org: create node %q: %w", in.ID, err)
		}
		if p.Status != Active {
			return Node{}, fmt.Errorf("org: create node %q: field parent: %q is retired: %w", in.ID, p.ID, ErrRetired)
		}
		parentPath = p.Path
	}
	now := s.now()
	n := Node{ID: in.ID, Kind: in.Kind, Name: in.Name, Parent: in.Parent, Path: PathOf(parentPath, in.ID),
		Status: Active, Created: now, Updated: now}
	c := s.change(a, ActCreateNode, now)
	c.Node = n.ID
	c.Detail = fmt.Sprintf("created %s %q at %s", n.Kind, n.Name, n.Path)
	if err := s.store.CreateNode(ctx, n, c); err != nil {
		return Node{}, fmt.Errorf("org: create node %q: %w", in.ID, err)
	}
	return n, nil
}

// RenameNode changes a node's name. Policy: ActRenameNode on the node.
// Errors: ErrInvalid, ErrNotFound, ErrForbidden.
func (s *Service) RenameNode(ctx context.Context, a Actor, id NodeID, name string) (Node, error) {
	if err := checkCode("id", string(id)); err != nil {
		return Node{}, fmt.Errorf("org: rename node: %w", err)
	}
	if err := checkName("name", name); err != nil {
		return Node{}, fmt.Errorf("org: rename node %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActRenameNode, Target{Node: id}); err != nil {
		return Node{}, err
	}
	c := s.change(a, ActRenameNode, s.now())
	c.Node = id
	c.Detail = fmt.Sprintf("renamed to %q", name)
	n, err := s.store.RenameNode(ctx, id, name, c)
	if err != nil {
		return Node{}, fmt.Errorf("org: rename node %q: %w", id, err)
	}
	return n, nil
}

// MoveNode hangs node id, with its whole subtree, below parent. The tier
// rule is re-checked (a centre never moves); the store refuses cycles and
// retired parents. Policy: ActMoveNode on the node and on the new parent
// (an admin must hold both). Errors: ErrInvalid (same parent), ErrTier,
// ErrCycle, ErrNotFound, ErrRetired, ErrForbidden.
func (s *Service) MoveNode(ctx context.Context, a Actor, id, parent NodeID) (Node, error) {
	if err := checkCode("id", string(id)); err != nil {
		return Node{}, fmt.Errorf("org: move node: %w", err)
	}
	if err := checkCode("parent", string(parent)); err != nil {
		return Node{}, fmt.Errorf("org: move node %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActMoveNode, Target{Node: id}); err != nil {
		return Node{}, err
	}
	if err := s.authorize(ctx, a, ActMoveNode, Target{Node: parent}); err != nil {
		return Node{}, err
	}
	n, err := s.store.Node(ctx, id)
	if err != nil {
		return Node{}, fmt.Errorf("org: move node %q: field id: %w", id, err)
	}
	p, err := s.store.Node(ctx, parent)
	if err != nil {
		return Node{}, fmt.Errorf("org: move node %q: field parent: %w", id, err)
	}
	if err := CheckParent(n.Kind, p.Kind); err != nil {
		return Node{}, fmt.Errorf("org: move node %q: %w", id, err)
	}
	if n.Parent == parent {
		return Node{}, fmt.Errorf("org: move node %q: field parent: already below %q: %w", id, parent, ErrInvalid)
	}
	c := s.change(a, ActMoveNode, s.now())
	c.Node = id
	c.Detail = fmt.Sprintf("moved from %s to below %s", n.Path, p.Path)
	moved, err := s.store.MoveNode(ctx, id, parent, c)
	if err != nil {
		return Node{}, fmt.Errorf("org: move node %q: %w", id, err)
	}
	return moved, nil
}

// RetireNode retires a node. It is refused (ErrInUse) while the node has
// active children or active teams anchored at it or serving it: move or
// retire those first. Policy: ActRetireNode on the node. Errors:
// ErrNotFound, ErrRetired (already), ErrInUse, ErrForbidden.
func (s *Service) RetireNode(ctx context.Context, a Actor, id NodeID, reason string) (Node, error) {
	if err := checkCode("id", string(id)); err != nil {
		return Node{}, fmt.Errorf("org: retire node: %w", err)
	}
	if err := s.authorize(ctx, a, ActRetireNode, Target{Node: id}); err != nil {
		return Node{}, err
	}
	c := s.change(a, ActRetireNode, s.now())
	c.Node = id
	c.Detail = "retired: " + reason
	n, err := s.store.RetireNode(ctx, id, c)
	if err != nil {
		return Node{}, fmt.Errorf("org: retire node %q: %w", id, err)
	}
	return n, nil
}

// ReactivateNode makes a retired node active again; its parent must be
// active. Policy: ActReactivateNode on the node. Errors: ErrNotFound,
// ErrInvalid (already active), ErrRetired (parent), ErrForbidden.
func (s *Service) ReactivateNode(ctx context.Context, a Actor, id NodeID) (Node, error) {
	if err := checkCode("id", string(id)); err != nil {
		return Node{}, fmt.Errorf("org: reactivate node: %w", err)
	}
	if err := s.authorize(ctx, a, ActReactivateNode, Target{Node: id}); err != nil {
		return Node{}, err
	}
	c := s.change(a, ActReactivateNode, s.now())
	c.Node = id
	c.Detail = "reactivated"
	n, err := s.store.ReactivateNode(ctx, id, c)
	if err != nil {
		return Node{}, fmt.Errorf("org: reactivate node %q: %w", id, err)
	}
	return n, nil
}

// Node returns a node (kind, status, path...). Errors: ErrNotFound.
func (s *Service) Node(ctx context.Context, id NodeID) (Node, error) {
	n, err := s.store.Node(ctx, id)
	if err != nil {
		return Node{}, fmt.Errorf("org: node %q: %w", id, err)
	}
	return n, nil
}

// Ancestors returns the ancestors of a node, root first, without the node.
// Errors: ErrNotFound.
func (s *Service) Ancestors(ctx context.Context, id NodeID) ([]Node, error) {
	ns, err := s.store.Ancestors(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("org: ancestors of %q: %w", id, err)
	}
	return ns, nil
}

// Within reports whether node lies in scope's subtree (a node is within
// itself), in O(depth). Errors: ErrNotFound if either is unknown.
func (s *Service) Within(ctx context.Context, scope, node NodeID) (bool, error) {
	ok, err := s.store.Within(ctx, scope, node)
	if err != nil {
		return false, fmt.Errorf("org: within(%q, %q): %w", scope, node, err)
	}
	return ok, nil
}

// Subtree returns a page of root's subtree (root included) in Path order.
// Errors: ErrNotFound, ErrInvalid (kind or cursor).
func (s *Service) Subtree(ctx context.Context, root NodeID, q SubtreeQuery) (NodePage, error) {
	for i, k := range q.Kinds {
		if !k.Valid() {
			return NodePage{}, fmt.Errorf("org: subtree of %q: field kinds[%d]: unknown kind %q: %w", root, i, k, ErrInvalid)
		}
	}
	q.Limit = limit(q.Limit)
	p, err := s.store.Subtree(ctx, root, q)
	if err != nil {
		return NodePage{}, fmt.Errorf("org: subtree of %q: %w", root, err)
	}
	return p, nil
}
