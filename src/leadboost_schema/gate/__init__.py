"""The schema-change gate (issue 12, docs/gate.md): a change between a base revision and head proven on throwaway
servers — history, upgrade equals fresh, data kept, lock trace, blocked time under load, old clients served."""
