/* Progressive enhancement of the report form; the form works without it.
   - Draws attention to the emergency notice when an emergency category is chosen.
   - Checks the evidence links in the background: when "Check the links" is
     pressed, when the field is left, when typing pauses, and on Enter in the
     wiki field. The server renders the facts, and any problem (too many
     checks, no links), with the same template as without JavaScript; when no
     answer comes at all (network, logged out) the message the page carries
     in data attributes is shown. No user-facing text lives here.
   - Counts the description's characters as they are typed (the limit is
     checked by the server, which refuses a longer text and keeps it). */
( function () {
	'use strict';
	var form = document.getElementById( 'report-form' );
	if ( !form ) {
		return;
	}
	// Not form.action: the form's buttons are named "action", which shadows the property.
	var endpoint = form.getAttribute( 'action' );
	var notice = document.getElementById( 'emergency-notice' );
	var evidence = document.getElementById( 'evidence' );
	var wiki = document.getElementById( 'wiki' );
	var preview = document.getElementById( 'evidence-preview' );
	var checkButton = form.querySelector( 'button[name="action"][value="check"]' );
	var timer = null;
	var lastChecked = null;
	var pending = null;

	function updateNotice() {
		var chosen = form.querySelector( 'input[name="category"]:checked' );
		var emergency = chosen && chosen.closest( '.category-group--emergency' );
		notice.classList.toggle( 'emergency-notice--active', !!emergency );
	}

	function showProblem( text ) {
		var box = document.createElement( 'div' );
		box.className = 'cdx-message cdx-message--warning';
		box.id = 'evidence-preview-problem';
		box.setAttribute( 'role', 'status' );
		var icon = document.createElement( 'span' );
		icon.className = 'cdx-message__icon';
		var content = document.createElement( 'div' );
		content.className = 'cdx-message__content';
		content.textContent = text;
		box.append( icon, content );
		preview.replaceChildren( box );
	}

	function checkEvidence( force ) {
		var text = evidence.value.trim();
		var key = text + '\n' + ( wiki ? wiki.value.trim() : '' );
		if ( !text || ( key === lastChecked && !force ) ) {
			return;
		}
		lastChecked = key;
		var data = new URLSearchParams( new FormData( form ) );
		data.set( 'action', 'check' );
		preview.setAttribute( 'aria-busy', 'true' );
		preview.dataset.state = 'checking';
		if ( pending ) {
			pending.abort();
		}
		var controller = new AbortController();
		pending = controller;
		fetch( endpoint, {
			method: 'POST',
			body: data,
			credentials: 'same-origin',
			// A background check after the session ended is refused (403), never kept for a login.
			headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Background-Check': '1' },
			signal: controller.signal
		} ).then( function ( response ) {
			// A refused check (429 too many, 422 nothing to check) still brings the form with
			// the reason in #evidence-preview; 403 means the session (and its token) ended.
			return response.text().then( function ( html ) {
				var doc = new DOMParser().parseFromString( html, 'text/html' );
				var fresh = doc.getElementById( 'evidence-preview' );
				if ( fresh && ( response.ok || fresh.children.length ) ) {
					preview.replaceChildren.apply( preview, Array.prototype.slice.call( fresh.childNodes ) );
				} else {
					lastChecked = null;
					showProblem( response.status === 403 ? preview.dataset.forbidden : preview.dataset.failed );
				}
			} );
		} ).catch( function ( error ) {
			if ( error && error.name === 'AbortError' ) {
				return;
			}
			lastChecked = null; // try again on the next change
			showProblem( preview.dataset.failed );
		} ).then( function () {
			if ( pending === controller ) {
				pending = null;
				preview.removeAttribute( 'aria-busy' );
				delete preview.dataset.state;
			}
		} );
	}

	function setUpCount() {
		var description = document.getElementById( 'description' );
		var count = document.getElementById( 'description-count' );
		var over = document.getElementById( 'description-count-over' );
		var status = document.getElementById( 'description-count-status' );
		if ( !description || !count ) {
			return;
		}
		var max = Number( count.dataset.max );
		// Latin digits, as the server writes the limit in the same sentence.
		var numbers = new Intl.NumberFormat( document.documentElement.lang || undefined, { numberingSystem: 'latn' } );
		var announce = null;
		function update() {
			// Characters as the server counts them: code points, line ends as one.
			var length = Array.from( description.value.replace( /\r\n/g, '\n' ).trim() ).length;
			var text = count.dataset.template.replace( '{count}', numbers.format( length ) );
			var tooLong = length > max;
			count.textContent = text;
			count.classList.toggle( 'char-count--over', tooLong );
			over.hidden = !tooLong;
			description.closest( '.cdx-text-area' ).classList.toggle( 'cdx-text-area--status-error', tooLong );
			clearTimeout( announce );
			// Screen readers hear the count when typing pauses, not at every key.
			announce = setTimeout( function () {
				status.textContent = tooLong ? text + ' ' + over.textContent : text;
			}, 1000 );
		}
		count.hidden = false;
		description.addEventListener( 'input', update );
		update();
		status.textContent = '';
	}

	if ( notice ) {
		form.addEventListener( 'change', updateNotice );
		updateNotice();
	}
	if ( evidence && preview ) {
		evidence.addEventListener( 'input', function () {
			clearTimeout( timer );
			timer = setTimeout( checkEvidence, 1200 );
		} );
		evidence.addEventListener( 'change', function () {
			clearTimeout( timer );
			checkEvidence();
		} );
		evidence.addEventListener( 'blur', function () {
			clearTimeout( timer );
			checkEvidence();
		} );
		if ( wiki ) {
			// Enter in the one-line wiki field checks the links instead of submitting the form
			// (the report is sent with its own button only).
			wiki.addEventListener( 'keydown', function ( event ) {
				if ( event.key === 'Enter' && !event.isComposing ) {
					event.preventDefault();
					checkEvidence( true );
				}
			} );
		}
		if ( checkButton ) {
			checkButton.addEventListener( 'click', function ( event ) {
				event.preventDefault();
				clearTimeout( timer );
				checkEvidence( true );
			} );
		}
	}
	setUpCount();
}() );
