/**
 * The static site's page (`fitlab site`): the dashboard's views with an in-page session in
 * place of the server. The session is set as the transport before the dashboard's own entry
 * (../main.ts) runs: module evaluation follows the import order.
 */
import './install.js';
import '../main.js';
