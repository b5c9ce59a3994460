SELECT finanzas.post_transaction('cccccccc-0000-0000-0000-000000000001', '[{"account_type":"CASH","amount":1,"direction":1},{"account_type":"REVENUE","amount":1,"direction":-1}]');
