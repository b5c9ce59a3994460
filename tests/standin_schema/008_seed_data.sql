-- Stand-in seed data: one known tenant.
INSERT INTO iam.tenants (id, name) VALUES ('11111111-1111-1111-1111-111111111111', 'ACME');
