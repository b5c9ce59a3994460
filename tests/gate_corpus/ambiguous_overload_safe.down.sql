-- ambiguous_overload_safe.down.sql — removes the function the upgrade added.
-- transaction: file
DROP FUNCTION IF EXISTS stock.reserve_inventory_noted(uuid, text, integer, integer, text);
