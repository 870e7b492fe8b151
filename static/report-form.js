/* Progressive enhancement of the report form; the form works without it.
   - Draws attention to the emergency notice when an emergency category is chosen.
   - Checks the evidence links in the background when they change (and when
     "Check the links" is pressed) and shows what the wiki says about them.
     The server renders the facts (the same template as without JavaScript),
     so no user-facing text lives here. */
( function () {
	'use strict';
	var form = document.querySelector( '.report-form' );
	if ( !form ) {
		return;
	}
	var notice = document.getElementById( 'emergency-notice' );
	var evidence = document.getElementById( 'evidence' );
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

	function checkEvidence() {
		var text = evidence.value.trim();
		if ( !text || text === lastChecked ) {
			return;
		}
		lastChecked = text;
		var data = new URLSearchParams( new FormData( form ) );
		data.set( 'action', 'check' );
		preview.setAttribute( 'aria-busy', 'true' );
		preview.dataset.state = 'checking';
		if ( pending ) {
			pending.abort();
		}
		pending = new AbortController();
		fetch( form.getAttribute( 'action' ), { // not form.action: the buttons named "action" shadow it
			method: 'POST',
			body: data,
			credentials: 'same-origin',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			signal: pending.signal
		} ).then( function ( response ) {
			return response.ok ? response.text() : null;
		} ).then( function ( html ) {
			if ( html === null ) {
				return;
			}
			var doc = new DOMParser().parseFromString( html, 'text/html' );
			var fresh = doc.getElementById( 'evidence-preview' );
			if ( fresh ) {
				preview.replaceChildren.apply( preview, Array.prototype.slice.call( fresh.childNodes ) );
			}
		} ).catch( function () {
			lastChecked = null; // try again on the next change
		} ).then( function () {
			preview.removeAttribute( 'aria-busy' );
			delete preview.dataset.state;
		} );
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
		evidence.addEventListener( 'blur', checkEvidence );
		if ( checkButton ) {
			checkButton.addEventListener( 'click', function ( event ) {
				event.preventDefault();
				lastChecked = null;
				checkEvidence();
			} );
		}
	}
}() );
